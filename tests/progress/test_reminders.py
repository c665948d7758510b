"""Reminders: the Chinese text under 70 characters, the outbox, e-mail over a real SMTP server,
SMS over a real HTTP endpoint, retries, and `flask reminders send` never sending twice."""
import csv
import json
import logging
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from campaign.audit.models import AuditRecord
from campaign.extensions import db as _db
from campaign.progress.chasing import (
    SMS_LIMIT,
    due_offset,
    queue_due_reminders,
    reminder_text,
    send_pending,
)
from campaign.progress.delivery import SmsSender
from campaign.progress.models import OutboxMessage
from tests.progress.chasing_helpers import (  # noqa: F401  (fixtures)
    TITLE,
    chased_campaign,
    configured,
    sms_gateway,
    smtp_server,
)

DEADLINE = datetime(2026, 11, 5, 9, 0, tzinfo=timezone.utc)  # 17:00 in Beijing
DATA = Path(__file__).resolve().parents[2] / "campaign"


@pytest.fixture
def built(db, tree, users):
    return chased_campaign(tree, users)


def messages(db):
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=["reminders", "send", *args])


def at(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


# --- the text --------------------------------------------------------------------------------

def test_the_reminder_reads_as_the_county_office_writes_it(app):
    with app.app_context():
        text = reminder_text(sender="临安区", unit="夏禹桥村委会", campaign_title=TITLE, count=3, returned=0,
                             deadline_at=DEADLINE)
    assert text == "【临安区】夏禹桥村委会：2026年森林防火宣传月活动尚有3项任务未上报，截止11月5日17:00，请尽快登录填报。"


def test_a_returned_report_is_named_in_the_reminder(app):
    with app.app_context():
        text = reminder_text(sender="玲珑街道", unit="前山村委会", campaign_title=TITLE, count=2, returned=1,
                             deadline_at=DEADLINE)
    assert text == "【玲珑街道】前山村委会：2026年森林防火宣传月活动尚有2项任务未上报或被退回，截止11月5日17:00，请尽快登录填报。"


def demo_names():
    names = []
    for filename in ("linan-district-units.csv", "linan-demo-schools-agencies.csv"):
        with open(DATA / "demo" / "data" / filename, encoding="utf-8") as handle:
            names.extend(row["name"] for row in csv.DictReader(handle))
    return names


def playbook_titles():
    import tomllib

    return [f"2026年{tomllib.loads(path.read_text(encoding='utf-8'))['title']}"
            for path in sorted((DATA / "playbooks").glob("*.toml"))]


def test_every_real_unit_fits_in_one_sms_with_its_name_whole(app):
    names = demo_names()
    townships = [name for name in names if name.endswith(("街道", "镇"))]
    with app.app_context():
        for unit in names:  # the county office reminds every unit of the forest-fire month: nothing is cut
            text = reminder_text(sender="临安区", unit=unit, campaign_title=TITLE, count=12, returned=3,
                                 deadline_at=DEADLINE)
            assert len(text) <= SMS_LIMIT and "…" not in text, text
        longest_title = max(playbook_titles(), key=len)
        assert len(longest_title) >= 18  # 2026年预防青少年儿童溺水专项行动
        for unit in sorted(names, key=len, reverse=True)[:5]:
            for sender in ["临安区", *sorted(townships, key=len, reverse=True)[:3]]:
                text = reminder_text(sender=sender, unit=unit, campaign_title=longest_title, count=12, returned=3,
                                     deadline_at=DEADLINE)
                assert len(text) <= SMS_LIMIT, text
                assert f"【{sender}】{unit}：" in text, text  # the title is shortened first


def test_names_too_long_for_an_sms_are_shortened_to_fit(app):
    with app.app_context():
        text = reminder_text(sender="某某省某某市某某县森林防火指挥部办公室", unit="某某镇某某村某某自然村第一村民小组委员会",
                             campaign_title="2026年某某县森林防火宣传月暨秋冬季森林火灾隐患排查整治专项行动", count=12,
                             returned=1, deadline_at=DEADLINE)
    assert len(text) <= SMS_LIMIT
    assert "…" in text and "截止11月5日17:00，请尽快登录填报。" in text


# --- the outbox (default) --------------------------------------------------------------------

def test_the_default_outbox_records_each_message_as_sent_and_logs_it(app, db, built, caplog, monkeypatch):
    # The migrations' logging.config.fileConfig (run by the app fixture) disables loggers that exist already.
    monkeypatch.setattr(logging.getLogger("campaign.reminders"), "disabled", False)
    now = built.campaign.deadline_at - timedelta(days=1)
    with caplog.at_level(logging.INFO, logger="campaign.reminders"):
        assert queue_due_reminders(now=now) > 0
        db.session.commit()
        result = send_pending(now=now)
    rows = messages(db)
    assert result.sent == len(rows) and result.failed == 0
    assert {row.status for row in rows} == {"sent"} and all(row.sent_at for row in rows)
    assert {row.channel for row in rows} == {"outbox"}
    assert sum("reminder auto:" in record.getMessage() for record in caplog.records) == len(rows)


def test_one_message_per_active_user_of_each_unit_with_a_report_not_in(app, db, built, users, tree):
    queue_due_reminders(now=built.campaign.deadline_at - timedelta(days=1))
    db.session.commit()
    rows = messages(db)
    recipients = {(row.unit_id, row.user_id) for row in rows}
    assert recipients == {
        (tree.village_a1.id, users.village_reporter.id),  # plan not started
        (tree.village_a1.id, built.a1_second.id),
        (tree.village_a2.id, built.a2_reporter.id),  # signs returned
        (tree.village_b1.id, built.b1_reporter.id),  # the inactive b1_gone is left out
        (tree.township_b.id, built.township_b_officer.id),  # township plan not started
    }
    a1 = next(row for row in rows if row.user_id == users.village_reporter.id)
    assert a1.body.startswith("【临安区】夏禹桥村委会：2026年森林防火宣传月活动尚有1项任务未上报，截止")
    b1 = next(row for row in rows if row.user_id == built.b1_reporter.id)
    assert "尚有2项任务未上报" in b1.body


# --- automatic reminders at the offsets, never twice -----------------------------------------

def test_nothing_is_due_before_the_first_offset(app, db, built):
    campaign = built.campaign
    assert due_offset(campaign, campaign.deadline_at - timedelta(days=3, seconds=1)) is None
    assert due_offset(campaign, campaign.deadline_at - timedelta(days=3)) == -3
    assert due_offset(campaign, campaign.deadline_at - timedelta(hours=20)) == -1
    assert due_offset(campaign, campaign.deadline_at + timedelta(days=2)) == 1
    result = run_cli(app, "--now", at(campaign.deadline_at - timedelta(days=4)))
    assert result.exit_code == 0, result.output
    assert "queued: 0, sent: 0, failed: 0" in result.output
    assert messages(db) == []


def test_running_every_hour_sends_each_offset_once(app, db, built):
    campaign = built.campaign
    first = run_cli(app, "--now", at(campaign.deadline_at - timedelta(days=3) + timedelta(minutes=5)))
    assert first.exit_code == 0, first.output
    assert "queued: 5, sent: 5, failed: 0" in first.output
    for hours in (0, 1, 2, 23):  # the same hour again, and the following hours
        again = run_cli(app, "--now", at(campaign.deadline_at - timedelta(days=3) + timedelta(hours=hours, minutes=5)))
        assert "queued: 0, sent: 0, failed: 0" in again.output
    assert len(messages(db)) == 5

    next_offset = run_cli(app, "--now", at(campaign.deadline_at - timedelta(days=1)))
    assert "queued: 5, sent: 5" in next_offset.output
    keys = sorted(row.dedup_key for row in messages(db))
    assert len(keys) == 10 and len(set(keys)) == 10
    assert sum(key.startswith(f"auto:{campaign.id}:-3:") for key in keys) == 5
    assert sum(key.startswith(f"auto:{campaign.id}:-1:") for key in keys) == 5


def test_a_late_first_run_sends_only_the_latest_passed_offset(app, db, built):
    campaign = built.campaign
    run_cli(app, "--now", at(campaign.deadline_at + timedelta(days=1, hours=2)))
    keys = {row.dedup_key.split(":")[2] for row in messages(db)}
    assert keys == {"+1"}


def test_two_processes_queueing_the_same_moment_queue_each_reminder_once(app, db, built):
    now = built.campaign.deadline_at - timedelta(days=1)
    assert queue_due_reminders(now=now) == 5
    assert queue_due_reminders(now=now) == 0  # what a second process at the same moment finds
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 5


def test_the_unique_key_is_the_backstop_against_a_duplicate(app, db, built, tree):
    queue_due_reminders(now=built.campaign.deadline_at - timedelta(days=1))
    db.session.commit()
    existing = messages(db)[0]
    with pytest.raises(IntegrityError):
        db.session.execute(insert(OutboxMessage).values(
            dedup_key=existing.dedup_key, campaign_id=existing.campaign_id, unit_id=existing.unit_id,
            channel="outbox", body="x",
        ))
    db.session.rollback()


def test_a_campaign_that_is_not_active_sends_nothing(app, db, built):
    built.campaign.status = "closed"
    db.session.commit()
    result = run_cli(app, "--now", at(built.campaign.deadline_at + timedelta(days=2)))
    assert "queued: 0" in result.output


def test_the_cli_refuses_a_malformed_moment(app, db):
    result = run_cli(app, "--now", "tomorrow")
    assert result.exit_code != 0 and "--now" in result.output


def test_queueing_is_audited(app, db, built):
    queue_due_reminders(now=built.campaign.deadline_at - timedelta(days=1))
    db.session.commit()
    entry = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "reminders.queue")).one()
    assert entry.entity_id == str(built.campaign.id) and entry.after["queued"] == 5 and entry.after["offset"] == -1


# --- e-mail over a real SMTP server ----------------------------------------------------------

def test_email_goes_through_smtp_and_users_without_an_address_are_recorded_as_failed(
        app, db, built, users, smtp_server, configured):
    configured(REMINDER_CHANNEL="email", SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port,
               MAIL_FROM="fanghuo@linan.gov.cn")
    result = run_cli(app, "--now", at(built.campaign.deadline_at - timedelta(days=1)))
    assert result.exit_code == 0, result.output
    assert "queued: 5, sent: 3, failed: 2" in result.output

    received = {tuple(mail.recipients): mail for mail in smtp_server.messages}
    assert set(received) == {("a1@example.cn",), ("b1@example.cn",), ("tb@example.cn",)}
    mail = received[("a1@example.cn",)].message
    assert mail["From"] == "fanghuo@linan.gov.cn"
    assert mail["Subject"] == f"催报提醒：{TITLE}"
    assert "夏禹桥村委会：2026年森林防火宣传月活动尚有1项任务未上报" in mail.get_content()

    failed = {row.user_id: row for row in messages(db) if row.status == "failed"}
    assert set(failed) == {built.a1_second.id, built.a2_reporter.id}
    assert failed[built.a2_reporter.id].last_error == "user a2_reporter has no e-mail address"
    assert failed[built.a2_reporter.id].attempts == 1


def test_an_unreachable_smtp_server_is_recorded_and_retried(app, db, built, smtp_server, configured):
    configured(REMINDER_CHANNEL="email", SMTP_HOST="127.0.0.1", SMTP_PORT=1)  # nothing listens there
    now = built.campaign.deadline_at - timedelta(days=1)
    queue_due_reminders(now=now)
    db.session.commit()
    first = send_pending(now=now)
    assert first.sent == 0 and first.failed == 5
    row = next(row for row in messages(db) if row.user_id == built.b1_reporter.id)
    assert row.status == "failed" and row.attempts == 1 and "SMTP 127.0.0.1:1" in row.last_error

    configured(SMTP_PORT=smtp_server.port)
    later = send_pending(now=now + timedelta(minutes=11))
    assert later.sent == 3  # the three with an e-mail address; the other two fail again
    row = next(row for row in messages(db) if row.user_id == built.b1_reporter.id)
    assert row.status == "sent" and row.attempts == 2 and row.last_error == ""
    assert [mail.recipients for mail in smtp_server.messages].count(["b1@example.cn"]) == 1


# --- SMS over a real HTTP endpoint -----------------------------------------------------------

def test_sms_posts_the_json_template_with_the_token_to_the_gateway(app, db, built, users, sms_gateway, configured):
    configured(REMINDER_CHANNEL="sms", SMS_GATEWAY_URL=sms_gateway.url, SMS_GATEWAY_TOKEN="s3cret",
               SMS_TEMPLATE='{"mobile": "{phone}", "content": "{text}", "sign": "临安区"}')
    result = run_cli(app, "--now", at(built.campaign.deadline_at - timedelta(days=1)))
    assert "queued: 5, sent: 3, failed: 2" in result.output  # a1_second and b1_reporter have no phone

    by_phone = {request.json["mobile"]: request for request in sms_gateway.requests}
    assert set(by_phone) == {"13800000001", "13800000002", "13800000003"}
    request = by_phone["13800000001"]
    assert request.path == "/send" and request.headers["Authorization"] == "Bearer s3cret"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.json["content"].startswith("【临安区】夏禹桥村委会：2026年森林防火宣传月活动尚有1项任务未上报")
    assert all(len(r.json["content"]) <= SMS_LIMIT for r in sms_gateway.requests)
    failed = next(row for row in messages(db) if row.user_id == built.b1_reporter.id)
    assert failed.status == "failed" and failed.last_error == "user b1_reporter has no phone number"


def test_sms_values_are_json_escaped_in_the_template(app):
    sender = SmsSender({"SMS_TEMPLATE": '{"to": "{phone}", "text": "{text}"}'})
    body = sender.body_for('138"0', '村名"带引号\\和\n换行')
    assert json.loads(body) == {"to": '138"0', "text": '村名"带引号\\和\n换行'}


def test_a_failing_gateway_is_retried_with_backoff_until_the_maximum(app, db, built, sms_gateway, configured):
    configured(REMINDER_CHANNEL="sms", SMS_GATEWAY_URL=sms_gateway.url, REMINDER_MAX_ATTEMPTS=3,
               REMINDER_RETRY_MINUTES=10)
    sms_gateway.fail = True
    now = built.campaign.deadline_at - timedelta(days=1)
    queue_due_reminders(now=now)
    db.session.commit()
    send_pending(now=now)
    row = next(row for row in messages(db) if row.user_id == built.a2_reporter.id)
    assert row.status == "failed" and row.attempts == 1
    assert "500" in row.last_error and "gateway down" in row.last_error
    assert row.next_attempt_at == now + timedelta(minutes=10)

    calls = len(sms_gateway.requests)
    send_pending(now=now + timedelta(minutes=9))  # not due yet
    assert len(sms_gateway.requests) == calls

    send_pending(now=now + timedelta(minutes=10))
    row = next(row for row in messages(db) if row.user_id == built.a2_reporter.id)
    assert row.attempts == 2 and row.next_attempt_at == now + timedelta(minutes=10) + timedelta(minutes=20)

    send_pending(now=now + timedelta(minutes=30))
    row = next(row for row in messages(db) if row.user_id == built.a2_reporter.id)
    assert row.status == "failed" and row.attempts == 3
    calls = len(sms_gateway.requests)
    sms_gateway.fail = False
    send_pending(now=now + timedelta(days=1))  # the maximum is reached: never tried again
    assert len(sms_gateway.requests) == calls
    assert next(row for row in messages(db) if row.user_id == built.a2_reporter.id).attempts == 3


def test_a_message_that_failed_once_is_sent_on_retry_and_counted_once(app, db, built, sms_gateway, configured):
    configured(REMINDER_CHANNEL="sms", SMS_GATEWAY_URL=sms_gateway.url)
    now = built.campaign.deadline_at - timedelta(days=1)
    sms_gateway.fail = True
    run_cli(app, "--now", at(now))
    sms_gateway.fail = False
    retry = run_cli(app, "--now", at(now + timedelta(minutes=15)))
    assert "queued: 0, sent: 3, failed: 2" in retry.output
    again = run_cli(app, "--now", at(now + timedelta(minutes=16)))
    assert "sent: 0" in again.output
    delivered = [r.json["phone"] for r in sms_gateway.requests if r is not None]
    assert len(delivered) == 6  # three failed tries, then three deliveries, nothing after
    row = next(row for row in messages(db) if row.user_id == built.a2_reporter.id)
    assert row.status == "sent" and row.attempts == 2


def test_a_wrong_channel_setting_is_refused_clearly(app, db, built, configured):
    configured(REMINDER_CHANNEL="pigeon")
    result = run_cli(app, "--now", at(built.campaign.deadline_at))
    assert result.exit_code != 0 and "REMINDER_CHANNEL" in result.output


def test_two_processes_running_at_the_same_moment_send_each_reminder_once(app, db, built, sms_gateway, configured):
    configured(REMINDER_CHANNEL="sms", SMS_GATEWAY_URL=sms_gateway.url)
    now = built.campaign.deadline_at - timedelta(days=1)
    db.session.commit()
    start = threading.Barrier(2)
    outcomes, errors = [], []

    def cron_run():
        try:
            with app.app_context():
                start.wait(timeout=10)
                queued = queue_due_reminders(now=now)
                _db.session.commit()
                result = send_pending(now=now)
                outcomes.append((queued, result.sent, result.failed))
                _db.session.remove()
        except Exception as error:  # noqa: BLE001  reported below
            errors.append(error)

    threads = [threading.Thread(target=cron_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(queued for queued, _sent, _failed in outcomes) == 5
    assert sum(sent for _queued, sent, _failed in outcomes) == 3
    phones = sorted(request.json["phone"] for request in sms_gateway.requests)
    assert phones == ["13800000001", "13800000002", "13800000003"]
    assert all(row.attempts == 1 for row in messages(db))
