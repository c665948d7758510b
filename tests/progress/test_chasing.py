"""The chasing page: who has not reported, scoped by role, filtered, exported, and reminded."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditRecord
from campaign.extensions import db as _db
from campaign.progress import chasing_views
from campaign.progress.chasing import chasing_csv, chasing_list, queue_manual_reminders, safe_cell
from campaign.progress.models import OutboxMessage
from campaign.progress.services import LateRow
from tests.conftest import counting_queries as counting
from tests.factories import make_campaign, make_task, make_unit, make_user
from tests.progress.chasing_helpers import chased_campaign, configured, make_report  # noqa: F401

ALLOWED_TO_SEE = {"admin", "county_officer", "township_officer", "inspector", "viewer"}
ALLOWED_TO_REMIND = {"admin", "county_officer", "township_officer"}
ROLES = ["admin", "county_officer", "township_officer", "village_reporter", "school_reporter",
         "agency_reporter", "inspector", "viewer"]


@pytest.fixture
def built(db, tree, users):
    return chased_campaign(tree, users)


def url(built, suffix="", **args):
    query = "&".join(f"{key}={value}" for key, value in args.items())
    return f"/progress/campaigns/{built.campaign.id}/chasing{suffix}" + (f"?{query}" if query else "")


def page(client, address):
    response = client.get(address)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def outbox(db):
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


# --- who may see and remind ------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_the_chasing_page_and_its_export_by_role(role, login, built):
    client = login(role)
    expected = 200 if role in ALLOWED_TO_SEE else 403
    assert client.get(url(built)).status_code == expected
    assert client.get(url(built, ".csv")).status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_remind_is_for_the_offices_only(role, login, built, db):
    client = login(role)
    expected = 200 if role in ALLOWED_TO_REMIND else 403
    assert client.get(url(built, "/remind")).status_code == expected
    response = client.post_form(url(built, "/remind"), {})
    assert response.status_code == (302 if role in ALLOWED_TO_REMIND else 403)
    assert bool(outbox(db)) == (role in ALLOWED_TO_REMIND)


def test_the_county_sees_every_unit_not_reported_with_contact_and_phone(as_county_officer, built):
    html = page(as_county_officer, url(built))
    for name in ("夏禹桥村委会", "前山村委会", "玲珑山社区", "白沙村委会", "太湖源镇"):
        assert name in html
    assert "玲珑中学" not in html and "太湖源幼儿园" not in html
    assert "王五" in html and "0571-63700000" in html
    assert "已退回" in html and "已暂存" in html and "未填报" in html
    assert "未上报及被退回单位" in html and "共5个单位、6项任务未上报。" in html


def test_a_township_officer_sees_only_the_villages_of_the_township(as_township_officer, built):
    html = page(as_township_officer, url(built))
    assert "夏禹桥村委会" in html and "前山村委会" in html and "玲珑山社区" in html
    assert "白沙村委会" not in html and "太湖源镇</td>" not in html and "王五" not in html


def test_filters_by_township_and_task(as_county_officer, built, tree):
    html = page(as_county_officer, url(built, township=tree.township_b.id))
    assert "白沙村委会" in html and "夏禹桥村委会" not in html
    html = page(as_county_officer, url(built, task=built.signs.id))
    assert "前山村委会" in html and "白沙村委会" in html and "夏禹桥村委会" not in html
    html = page(as_county_officer, url(built, township=tree.township_a.id, task=built.signs.id))
    assert "前山村委会" in html and "玲珑山社区" in html and "白沙村委会" not in html


def test_url_tampering_gives_404(as_township_officer, as_county_officer, built, tree, db):
    assert as_township_officer.get(url(built, township=tree.township_b.id)).status_code == 404
    assert as_township_officer.get(url(built, ".csv", township=tree.township_b.id)).status_code == 404
    assert as_township_officer.get(url(built, "/remind", township=tree.township_b.id)).status_code == 404
    assert as_county_officer.get(url(built, township=tree.village_a1.id)).status_code == 404  # not a township
    other = make_campaign(tree.county, title="另一个活动", status="active")
    foreign_task = make_task(other, "别的任务")
    neighbour = make_unit("county", None, "桐庐县")
    hidden = make_campaign(neighbour, title="桐庐县防溺水专项行动", status="active")
    draft = make_campaign(tree.county, title="草稿活动")
    db.session.commit()
    assert as_county_officer.get(url(built, task=foreign_task.id)).status_code == 404
    assert as_county_officer.get(f"/progress/campaigns/{hidden.id}/chasing").status_code == 404
    assert as_county_officer.get(f"/progress/campaigns/{hidden.id}/chasing/remind").status_code == 404
    assert as_county_officer.get(f"/progress/campaigns/{draft.id}/chasing").status_code == 404
    assert as_county_officer.get("/progress/campaigns/999999/chasing.csv").status_code == 404


# --- the export ------------------------------------------------------------------------------

def test_the_csv_opens_in_excel_in_chinese_and_runs_no_formula(as_county_officer, built):
    response = as_county_officer.get(url(built, ".csv"))
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "乡镇（街道）,单位,任务,状态,联系人,联系电话"
    assert len(lines) == 1 + 6
    assert "玲珑街道,夏禹桥村委会,制定村级防火公约,未填报,李四,\"'=HYPERLINK(\"\"http://evil\"\")\"" in lines
    assert "太湖源镇,白沙村委会,设置永久性宣传标牌,未填报,王五,0571-63700000" in lines


def test_the_csv_follows_the_filters(as_township_officer, built):
    lines = as_township_officer.get(url(built, ".csv", task=built.signs.id)).data.decode("utf-8-sig").splitlines()
    assert [line.split(",")[1] for line in lines[1:]] == ["前山村委会", "玲珑山社区"]


@pytest.mark.parametrize("value, written", [
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("夏禹桥村委会", "夏禹桥村委会"), ("0571-63700000", "0571-63700000"), (None, ""),
])
def test_cells_that_a_spreadsheet_would_run_are_written_as_text(value, written):
    assert safe_cell(value) == written


def test_the_csv_escapes_every_column(app):
    row = LateRow(1, 2, "@村", "village", 3, "=镇", 4, "+任务", "not_started", "-联系人", "=1")
    with app.test_request_context():
        line = chasing_csv([row]).decode("utf-8-sig").splitlines()[1]
    assert line == "'=镇,'@村,'+任务,未填报,'-联系人,'=1"


# --- reminding -------------------------------------------------------------------------------

def test_the_confirmation_says_how_many_units_and_users_and_shows_the_message(as_county_officer, built, db):
    html = page(as_county_officer, url(built, "/remind"))
    assert "共5个单位有任务未上报或被退回，将向5名用户发送提醒（站内记录并写入日志）。" in html
    assert "【临安区】" in html and "请尽快登录填报。" in html
    assert "确认发送" in html
    assert outbox(db) == []  # looking at the confirmation sends nothing


def test_remind_needs_a_csrf_token(as_county_officer, built, db):
    response = as_county_officer.post(url(built, "/remind"), data={})
    assert response.status_code == 400
    assert outbox(db) == []


def test_remind_messages_each_listed_units_active_users_and_is_audited(as_county_officer, built, users, db):
    response = as_county_officer.post_form(url(built, "/remind"), {}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "已向5个单位发送提醒：成功5条，失败0条。" in html
    rows = outbox(db)
    assert {row.user_id for row in rows} == {users.village_reporter.id, built.a1_second.id, built.a2_reporter.id,
                                             built.b1_reporter.id, built.township_b_officer.id}
    assert all(row.status == "sent" and row.created_by_id == users.county_officer.id for row in rows)
    assert all(row.dedup_key.startswith(f"manual:{built.campaign.id}:") for row in rows)
    a2 = next(row for row in rows if row.user_id == built.a2_reporter.id)
    assert a2.body.startswith("【临安区】前山村委会：2026年森林防火宣传月活动尚有1项任务未上报或被退回，截止")
    entry = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "reminders.remind")).one()
    assert entry.user_id == users.county_officer.id and entry.after["queued"] == 5
    assert "提醒发送记录" in html and "已发送" in html


def test_a_township_officer_reminds_only_its_own_units_and_signs_as_the_township(as_township_officer, built, tree, db):
    as_township_officer.post_form(url(built, "/remind", task=built.signs.id), {})
    rows = outbox(db)
    assert {row.unit_id for row in rows} == {tree.village_a2.id}  # community_a has no user
    assert rows[0].body.startswith("【玲珑街道】前山村委会：")


def test_a_failed_delivery_is_shown_with_its_error(as_county_officer, built, configured, db):
    configured(REMINDER_CHANNEL="sms", SMS_GATEWAY_URL="")
    html = as_county_officer.post_form(url(built, "/remind"), {}, follow_redirects=True).get_data(as_text=True)
    assert "成功0条，失败5条" in html
    assert "SMS_GATEWAY_URL is not set" in html or "has no phone number" in html
    assert {row.status for row in outbox(db)} == {"failed"}


def test_the_same_click_moment_queues_nothing_twice(app, built, users, db, tree):
    now = built.campaign.deadline_at - timedelta(days=2)
    with app.test_request_context():
        first = queue_manual_reminders(built.campaign, tree.county, actor=users.county_officer, now=now)
        second = queue_manual_reminders(built.campaign, tree.county, actor=users.county_officer, now=now)
        later = queue_manual_reminders(built.campaign, tree.county, actor=users.county_officer,
                                       now=now + timedelta(seconds=1))
    assert (first.queued, second.queued, later.queued) == (5, 0, 5)


def test_nothing_to_remind_when_every_report_is_in(as_county_officer, built, tree, db):
    html = page(as_county_officer, url(built, "/remind", township=tree.township_a.id, task=built.township_plan.id))
    assert "没有未上报的单位，无需发送提醒。" in html


def test_the_message_log_is_scoped_like_the_list(as_county_officer, login, built, db):
    as_county_officer.post_form(url(built, "/remind"), {})
    html = page(login("township_officer"), url(built))
    assert "13800000001" in html  # village_a1's reporter
    assert "13800000003" not in html and "b1@example.cn" not in html  # township_b's officer, village_b1's reporter


def test_the_page_is_chinese(as_county_officer, built):
    html = page(as_county_officer, url(built))
    for text in ("催报", "导出（CSV）", "发送提醒", "乡镇（街道）", "未上报任务", "联系人"):
        assert text in html


# --- a fixed number of queries ---------------------------------------------------------------



def add_villages(built, tree, count, start):
    for index in range(start, start + count):
        village = make_unit("village", tree.township_a, f"新村{index}", contact_name="赵六", phone="13900000000")
        make_user("village_reporter", village, f"reporter{index}", phone="13900000001")
        make_report(built.campaign, built.signs, village)
        make_report(built.campaign, built.plan, village, "returned")
    _db.session.commit()


def test_the_page_costs_the_same_queries_for_10_and_60_villages(as_county_officer, built, tree):
    as_county_officer.post_form(url(built, "/remind"), {})
    add_villages(built, tree, 10, 0)
    with counting() as small:
        page(as_county_officer, url(built))
    add_villages(built, tree, 50, 10)
    with counting() as large:
        html = page(as_county_officer, url(built))
    assert "第 1 页，共 2 页" in html  # 60 new villages and the campaign's own: 50 units a page
    assert len(large) == len(small)


# --- pages -------------------------------------------------------------------------------------

def test_a_long_list_comes_in_pages_and_the_csv_keeps_every_unit(as_county_officer, built, tree, monkeypatch):
    monkeypatch.setattr(chasing_views, "UNITS_PER_PAGE", 3)
    first = page(as_county_officer, url(built))
    second = page(as_county_officer, url(built, page=2))
    csv_text = as_county_officer.get(url(built, ".csv")).get_data().decode("utf-8-sig")

    names = [unit.unit_name for unit in chasing_list(built.campaign, tree.county)]
    assert 3 < len(names) <= 6
    townships = {tree.township_a.name, tree.township_b.name}  # also in the filter and the township column
    first_names, second_names = set(names[:3]) - townships, set(names[3:]) - townships
    assert all(name in first for name in first_names) and not any(name in first for name in second_names)
    assert all(name in second for name in second_names) and not any(name in second for name in first_names)
    assert "第 1 页，共 2 页" in first and "第 2 页，共 2 页" in second
    assert all(name in csv_text for name in names)


@pytest.mark.parametrize("bad", ["0", "-3", "999", "abc"])
def test_a_page_number_out_of_range_shows_a_page_that_exists(as_county_officer, built, bad):
    html = page(as_county_officer, url(built, page=bad))
    assert "白沙村委会" in html or "夏禹桥村委会" in html
