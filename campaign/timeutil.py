"""Times are stored in UTC and shown in the county's zone (Asia/Shanghai)."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

FALLBACK_ZONE = "Asia/Shanghai"


def local_zone() -> ZoneInfo:
    name = current_app.config["DEFAULT_TIMEZONE"] if has_app_context() else FALLBACK_ZONE
    return ZoneInfo(name)


def local_to_utc(day: date, at: time) -> datetime:
    """A wall-clock date and time in the county's zone, as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=local_zone()).astimezone(timezone.utc)


def to_local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(local_zone())


def local_today() -> date:
    return datetime.now(local_zone()).date()


def format_local(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    local = to_local(moment)
    return local.strftime(pattern) if local else ""
