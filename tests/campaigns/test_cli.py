"""flask campaigns create | launch | list."""
from datetime import datetime, timezone

from sqlalchemy import func, select

from campaign.audit.models import AuditRecord
from campaign.campaigns.models import Assignment, Campaign


def run(app, *args):
    return app.test_cli_runner().invoke(args=["campaigns", *args])


def create_args(**overrides):
    options = {"--playbook": "forest-fire-month", "--title": "2026年森林防火宣传月", "--start": "2026-10-01",
               "--end": "2026-10-31", "--deadline": "2026-11-05 17:00", "--unit": "330112000000", **overrides}
    return [part for option, value in options.items() if value is not None for part in (option, value)]


def test_create_prints_the_id_of_a_draft_from_the_playbook(app, db, tree):
    result = run(app, "create", *create_args())
    assert result.exit_code == 0, result.output
    campaign = db.session.get(Campaign, int(result.output.strip()))
    assert campaign.status == "draft" and campaign.root_unit_id == tree.county.id
    assert campaign.deadline_at == datetime(2026, 11, 5, 9, 0, tzinfo=timezone.utc)
    assert len(campaign.tasks) == 12
    entry = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "campaign.create")).one()
    assert entry.address == "cli" and entry.user_id is None


def test_create_defaults_the_title_and_deadline_from_the_playbook(app, db, tree):
    result = run(app, "create", *create_args(**{"--title": None, "--deadline": None, "--start": "2027-10-01",
                                                 "--end": "2027-10-31"}))
    assert result.exit_code == 0, result.output
    campaign = db.session.get(Campaign, int(result.output.strip()))
    assert campaign.title == "2027年森林防火宣传月"
    assert campaign.deadline_at == datetime(2027, 11, 5, 9, 0, tzinfo=timezone.utc)


def test_create_refuses_bad_input_with_status_1(app, db, tree):
    cases = [
        (create_args(**{"--playbook": "no-such"}), "no-such"),
        (create_args(**{"--unit": "999999999999"}), "999999999999"),
        (create_args(**{"--start": "2026-11-01"}), "开始日期不得晚于结束日期"),
        (create_args(**{"--deadline": "2026-10-30 17:00"}), "汇总截止时间不得早于结束日期"),
        (create_args(**{"--deadline": "5 Nov 17:00"}), "YYYY-MM-DD HH:MM"),
        (create_args(**{"--playbook": None, "--deadline": None}), "--deadline"),
        (create_args(**{"--playbook": None, "--title": None}), "--title"),
        (create_args(**{"--end": "2026-10-32"}), "--end"),
        (create_args(**{"--unit": None}), "--unit"),
        (create_args(**{"--start": None}), "--start"),
    ]
    for args, message in cases:
        result = run(app, "create", *args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_launch_prints_the_assignments_created_and_refuses_a_second_launch(app, db, tree):
    campaign_id = run(app, "create", *create_args()).output.strip()
    first = run(app, "launch", campaign_id)
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "26"
    second = run(app, "launch", campaign_id)
    assert second.exit_code == 1 and "已经启动" in second.output
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 26


def test_launch_of_an_unknown_campaign_fails(app, db, tree):
    result = run(app, "launch", "4711")
    assert result.exit_code == 1 and "4711" in result.output


def test_list_shows_each_campaign_with_its_local_deadline(app, db, tree):
    run(app, "create", *create_args())
    result = run(app, "list")
    assert result.exit_code == 0
    assert "2026年森林防火宣传月" in result.output and "2026-11-05 17:00" in result.output
    assert "draft" in result.output and "临安区" in result.output
