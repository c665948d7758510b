"""Chasing the units that have not reported: the list, its CSV export, and the reminders.

Every reminder is a row in outbox_message before anything leaves: queued as pending under a
unique dedup_key (so an hourly cron, or two at once, never queue the same reminder twice), then
claimed by one sender, then marked sent, or failed with the error and a retry time.
"""
import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..audit.services import record
from ..campaigns.models import AssignmentStatus, Campaign, CampaignStatus
from ..database import utcnow
from ..exports import safe_cell
from ..extensions import db
from ..i18n import ASSIGNMENT_STATUS_LABELS
from ..timeutil import to_local
from ..units.models import Unit, UnitKind
from .delivery import DeliveryError, channel_name, sender_for
from .models import Channel, MessageStatus, OutboxMessage
from .services import LateRow, late_or_missing_assignments, progress_scope

SMS_LIMIT = 70
CLAIM_LEASE = timedelta(minutes=10)  # a sender that dies mid-send frees its message after this


# --- the list --------------------------------------------------------------------------------

@dataclass
class ChasedUnit:
    unit_id: int
    unit_name: str
    township_name: str
    contact_name: str
    phone: str
    rows: list[LateRow] = field(default_factory=list)

    @property
    def returned(self) -> int:
        return sum(1 for row in self.rows if row.status == AssignmentStatus.RETURNED.value)


def chasing_scope(user, campaign) -> Unit:
    return progress_scope(user, campaign)


def township_choices(scope_unit) -> list[Unit]:
    """The townships a user may filter by: those in their scope (just their own for a township)."""
    if scope_unit.kind == UnitKind.TOWNSHIP.value:
        return [scope_unit]
    query = (
        select(Unit)
        .where(Unit.kind == UnitKind.TOWNSHIP.value, Unit.path.like(f"{scope_unit.path}%"))
        .order_by(Unit.code.is_(None), Unit.code, Unit.name)
    )
    return list(db.session.scalars(query))


def group_by_unit(rows: list[LateRow]) -> list[ChasedUnit]:
    units: dict[int, ChasedUnit] = {}
    for row in rows:
        unit = units.get(row.unit_id)
        if unit is None:
            unit = units[row.unit_id] = ChasedUnit(
                row.unit_id, row.unit_name, row.township_name, row.contact_name, row.phone
            )
        unit.rows.append(row)
    return list(units.values())


def chasing_list(campaign, scope_unit, task_id=None) -> list[ChasedUnit]:
    """Units in scope with missing or returned reports, each with its open tasks (one query)."""
    return group_by_unit(late_or_missing_assignments(campaign, scope_unit, task_id=task_id))


def active_users_by_unit(unit_ids) -> dict[int, list[User]]:
    """The active users of the given units, in one query."""
    users = defaultdict(list)
    if not unit_ids:
        return users
    query = select(User).where(User.unit_id.in_(list(unit_ids)), User.active.is_(True)).order_by(User.id)
    for user in db.session.scalars(query):
        users[user.unit_id].append(user)
    return users


# --- CSV -------------------------------------------------------------------------------------

def chasing_csv(rows: list[LateRow]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel on a Chinese Windows opens it without mojibake."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Township / street"), _("Unit"), _("Task"), _("Status"), _("Contact"), _("Phone")])
    for row in rows:
        writer.writerow([
            safe_cell(value)
            for value in (
                row.township_name, row.unit_name, row.task_title,
                str(ASSIGNMENT_STATUS_LABELS.get(row.status, row.status)), row.contact_name, row.phone,
            )
        ])
    return buffer.getvalue().encode("utf-8-sig")


# --- the message -----------------------------------------------------------------------------

def _shorten(text: str, by: int, keep: int) -> str:
    """text cut by `by` characters (an ellipsis marks the cut), never below `keep` characters."""
    if by <= 0 or len(text) <= keep:
        return text
    length = max(keep, len(text) - by - 1)
    return text[:length] + "…" if length < len(text) else text


def reminder_text(*, sender: str, unit: str, campaign_title: str, count: int, returned: int,
                  deadline_at: datetime, limit: int = SMS_LIMIT) -> str:
    """The reminder in the office's language, at most `limit` characters (names shortened if needed)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        local = to_local(deadline_at)
        deadline = _("%(month)s/%(day)s %(time)s", month=local.month, day=local.day,
                     time=local.strftime("%H:%M"))

        def render(sender, unit, title):
            values = {"sender": sender, "unit": unit, "campaign": title, "count": count, "deadline": deadline}
            if returned:
                return _("[%(sender)s] %(unit)s: %(count)s tasks of %(campaign)s are not reported or were "
                         "returned, due %(deadline)s. Please log in and report.", **values)
            return _("[%(sender)s] %(unit)s: %(count)s tasks of %(campaign)s are not yet reported, due "
                     "%(deadline)s. Please log in and report.", **values)

        text = render(sender, unit, campaign_title)
        for part in ("campaign", "unit", "sender"):
            over = len(text) - limit
            if over <= 0:
                break
            if part == "campaign":
                campaign_title = _shorten(campaign_title, over, 6)
            elif part == "unit":
                unit = _shorten(unit, over, 4)
            else:
                sender = _shorten(sender, over, 2)
            text = render(sender, unit, campaign_title)
        return text[:limit]


def reminder_subject(campaign_title: str) -> str:
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _("Reminder: %(campaign)s", campaign=campaign_title)[:200]


# --- queueing --------------------------------------------------------------------------------

@dataclass
class QueueResult:
    units: int = 0
    users: int = 0
    queued: int = 0
    message_ids: list[int] = field(default_factory=list)
    sample: str = ""


def _message_rows(campaign, chased: list[ChasedUnit], *, key_prefix, sender_name, actor, now, channel):
    sender = sender_for(channel)
    users_by_unit = active_users_by_unit([unit.unit_id for unit in chased])
    subject = reminder_subject(campaign.title)
    rows = []
    for unit in chased:
        body = reminder_text(
            sender=sender_name, unit=unit.unit_name, campaign_title=campaign.title,
            count=len(unit.rows), returned=unit.returned, deadline_at=campaign.deadline_at,
        )
        for user in users_by_unit.get(unit.unit_id, []):
            rows.append({
                "dedup_key": f"{key_prefix}:{unit.unit_id}:{user.id}"[:120],
                "campaign_id": campaign.id,
                "unit_id": unit.unit_id,
                "user_id": user.id,
                "channel": channel,
                "address": sender.address_of(user)[:120],
                "subject": subject,
                "body": body,
                "status": MessageStatus.PENDING.value,
                "attempts": 0,
                "last_error": "",
                "created_by_id": actor.id if actor is not None else None,
                "created_at": now,
                "next_attempt_at": now,
                "sent_at": None,
            })
    return rows, users_by_unit


def _insert_new(rows) -> list[int]:
    """Insert the rows whose dedup_key is new; the unique key makes a concurrent duplicate a no-op."""
    if not rows:
        return []
    table = OutboxMessage.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        statement = (
            dialect_insert(table)
            .on_conflict_do_nothing(index_elements=[table.c.dedup_key])
            .returning(table.c.id)
        )
        ids = []
        for start in range(0, len(rows), 500):
            ids.extend(db.session.scalars(statement, rows[start:start + 500]).all())
        return ids
    ids = []
    for row in rows:
        try:
            with db.session.begin_nested():
                ids.append(db.session.execute(insert(table).returning(table.c.id), row).scalar_one())
        except IntegrityError:
            pass
    return ids


def queue_manual_reminders(campaign, scope_unit, *, actor, task_id=None, now=None) -> QueueResult:
    """The "Remind" button: one message per listed unit's active user, keyed by the click time so a
    double click in the same second queues nothing more."""
    now = now or utcnow()
    chased = chasing_list(campaign, scope_unit, task_id=task_id)
    channel = channel_name()
    rows, users_by_unit = _message_rows(
        campaign, chased, key_prefix=f"manual:{campaign.id}:{int(now.timestamp())}",
        sender_name=(actor.unit.name if actor is not None else campaign.root_unit.name),
        actor=actor, now=now, channel=channel,
    )
    ids = _insert_new(rows)
    result = QueueResult(
        units=len(chased), users=sum(len(users) for users in users_by_unit.values()),
        queued=len(ids), message_ids=ids,
    )
    record("reminders.remind", "campaign", campaign.id, actor=actor, after={
        "scope_unit_id": scope_unit.id, "task_id": task_id, "channel": channel,
        "units": result.units, "users": result.users, "queued": result.queued,
    })
    db.session.flush()
    return result


def recipients_preview(campaign, scope_unit, *, sender_name, task_id=None) -> QueueResult:
    """How many units and users a Remind would message, and the first message, queueing nothing."""
    chased = chasing_list(campaign, scope_unit, task_id=task_id)
    users_by_unit = active_users_by_unit([unit.unit_id for unit in chased])
    sample = ""
    if chased:
        sample = reminder_text(
            sender=sender_name, unit=chased[0].unit_name, campaign_title=campaign.title,
            count=len(chased[0].rows), returned=chased[0].returned, deadline_at=campaign.deadline_at,
        )
    return QueueResult(units=len(chased), users=sum(len(users) for users in users_by_unit.values()),
                       sample=sample)


def parse_offsets(text: str) -> list[int]:
    offsets = set()
    for part in (text or "").split(","):
        part = part.strip()
        if part.lstrip("+-").isdigit():
            offsets.add(int(part))
    return sorted(offsets)


def due_offset(campaign, now) -> int | None:
    """The latest offset whose moment (deadline ± N days) has passed; an earlier one that was
    missed (cron down, campaign launched late) is not sent as well — one reminder per occasion."""
    passed = [offset for offset in parse_offsets(campaign.reminder_offsets)
              if campaign.deadline_at + timedelta(days=offset) <= now]
    return max(passed) if passed else None


def queue_due_reminders(now=None) -> int:
    """Queue the automatic reminders due at `now` for every active campaign; returns how many are new."""
    now = now or utcnow()
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.ACTIVE.value)
        .options(joinedload(Campaign.root_unit)).order_by(Campaign.id)
    ).all()
    channel = channel_name()
    queued = 0
    for campaign in campaigns:
        offset = due_offset(campaign, now)
        if offset is None:
            continue
        chased = chasing_list(campaign, campaign.root_unit)
        rows, _users = _message_rows(
            campaign, chased, key_prefix=f"auto:{campaign.id}:{offset:+d}",
            sender_name=campaign.root_unit.name, actor=None, now=now, channel=channel,
        )
        ids = _insert_new(rows)
        if ids:
            record("reminders.queue", "campaign", campaign.id, after={
                "offset": offset, "channel": channel, "queued": len(ids),
            })
        queued += len(ids)
    db.session.flush()
    return queued


# --- sending ---------------------------------------------------------------------------------

@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    base = float(current_app.config.get("REMINDER_RETRY_MINUTES", 10))
    return timedelta(minutes=base * 2 ** max(attempts - 1, 0))


def send_pending(now=None, ids=None, limit=1000) -> SendResult:
    """Send the pending messages and the failed ones due for a retry (or only `ids`).

    This commits after each step of each message, unlike the rest of the app: a message must be
    recorded as claimed before it leaves and as sent right after, so that a crash or a second
    process never sends it twice.
    """
    now = now or utcnow()
    max_attempts = int(current_app.config.get("REMINDER_MAX_ATTEMPTS", 5))
    query = (
        select(OutboxMessage)
        .where(
            or_(
                OutboxMessage.status == MessageStatus.PENDING.value,
                (OutboxMessage.status == MessageStatus.FAILED.value) & (OutboxMessage.attempts < max_attempts),
            ),
            OutboxMessage.next_attempt_at <= now,
        )
        .options(joinedload(OutboxMessage.user))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if ids is not None:
        if not ids:
            return SendResult()
        query = query.where(OutboxMessage.id.in_(list(ids)))
    messages = db.session.scalars(query).all()
    db.session.commit()
    result = SendResult()
    senders = {}
    for message in messages:
        if not _claim(message, now, max_attempts):
            continue
        sender = senders.get(message.channel) or senders.setdefault(message.channel, sender_for(message.channel))
        error = None
        if not message.address and message.user is not None:
            message.address = sender.address_of(message.user)[:120]  # the user may have added it since
        if not message.address and message.channel != Channel.OUTBOX.value:
            user = message.user
            error = sender.missing_address_error(user) if user is not None else "no recipient"
        else:
            try:
                sender.send(message)
            except DeliveryError as failure:
                error = str(failure)
        if error is None:
            message.status = MessageStatus.SENT.value
            message.sent_at = utcnow()
            message.last_error = ""
            result.sent += 1
        else:
            message.status = MessageStatus.FAILED.value
            message.last_error = error[:2000]
            message.next_attempt_at = now + retry_delay(message.attempts)
            result.failed += 1
        db.session.commit()
    return result


def _claim(message, now, max_attempts) -> bool:
    """Take the message for this process (attempts+1, due again only after a lease), if it is still
    due and nobody else took it since we read it."""
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.attempts == message.attempts,
            OutboxMessage.attempts < max_attempts,
            OutboxMessage.status != MessageStatus.SENT.value,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(attempts=message.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return False
    db.session.refresh(message)
    return True
