"""flask users create / list: the way the first administrator is made."""
from sqlalchemy import select

from campaign.accounts.models import User
from campaign.audit.models import AuditRecord
from tests.conftest import log_in


def run(app, *args):
    return app.test_cli_runner().invoke(args=["users", *args])


def test_create_makes_a_user_who_can_log_in(app, tree, db):
    result = run(app, "create", "--username", "root", "--role", "admin", "--unit", "330112000000",
                 "--password", "Passw0rd999", "--name", "管理员", "--phone", "13800009999")
    assert result.exit_code == 0, result.output
    assert "已创建用户 root（系统管理员），所属单位：临安区。" in result.output
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.username == "root"))
    assert (user.role, user.unit_id, user.display_name, user.phone) == ("admin", tree.county.id, "管理员", "13800009999")
    audit = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "user.create"))
    assert audit.entity_id == str(user.id) and audit.address == "cli" and audit.user_id is None
    log_in(app.test_client(), "root", "Passw0rd999")


def test_create_asks_for_the_password_when_not_given(app, tree, db):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--username", "root", "--role", "admin", "--unit", "330112000000"],
        input="Passw0rd999\nPassw0rd999\n",
    )
    assert result.exit_code == 0, result.output
    assert "Passw0rd999" not in result.output


def test_create_refuses_bad_input_with_a_clear_message_and_exit_1(app, users, db):
    cases = [
        (["--username", "x", "--role", "mayor", "--unit", "330112000000", "--password", "Passw0rd999"], "未知角色 mayor"),
        (["--username", "x", "--role", "viewer", "--unit", "000000000000", "--password", "Passw0rd999"],
         "没有统计用区划代码为 000000000000 的单位"),
        (["--username", "viewer", "--role", "viewer", "--unit", "330112000000", "--password", "Passw0rd999"],
         "用户名 viewer 已被使用"),
        (["--username", "x", "--role", "township_officer", "--unit", "330112000000", "--password", "Passw0rd999"],
         "该角色不能隶属于此类单位"),
        (["--username", "x", "--role", "viewer", "--unit", "330112000000", "--password", "short"], "密码至少需要 8 位"),
    ]
    for args, message in cases:
        result = run(app, "create", *args)
        assert result.exit_code == 1, args
        assert message in result.output, (args, result.output)
    db.session.expire_all()
    assert db.session.query(User).filter_by(username="x").count() == 0


def test_list_prints_the_users_with_their_role_and_unit(app, users):
    result = run(app, "list")
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if line.startswith("village_reporter\t"))
    assert "村（社区）填报员" in line and "夏禹桥村委会" in line


def test_list_can_be_limited_to_a_unit_and_below(app, users):
    result = run(app, "list", "--unit", "330112002000")
    names = {line.split("\t")[0] for line in result.output.splitlines()}
    assert names == {"township_officer", "village_reporter", "school_reporter"}


def test_unlock_lifts_the_login_slow_down_of_an_account_and_is_audited(app, users, db, clock):
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"]):
        app.test_client().post_form("/login", {"username": "admin", "password": "Wrong-guess-1"},
                                    environ_base=attacker)
    refused = app.test_client().post_form("/login", {"username": "admin", "password": "Passw0rd123"},
                                          environ_base=attacker)
    assert "此处登录失败次数过多" in refused.get_data(as_text=True)

    result = run(app, "unlock", "admin")
    assert result.exit_code == 0, result.output
    assert "admin 现在可从任何地点立即登录。" in result.output
    audit = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "user.unlock_login"))
    assert audit.entity_id == str(users.admin.id) and audit.address == "cli"
    allowed = app.test_client().post_form("/login", {"username": "admin", "password": "Passw0rd123"},
                                          environ_base=attacker)
    assert allowed.status_code == 302


def test_unlock_of_an_unknown_user_says_so_and_exits_1(app, users):
    result = run(app, "unlock", "nobody")
    assert result.exit_code == 1
    assert "没有名为 nobody 的用户。" in result.output
