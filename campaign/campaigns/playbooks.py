"""Playbooks (活动模板): reusable campaign blueprints shipped as TOML files in campaign/playbooks/.

A file holds ``key``, ``title``, ``theme``, ``description``, a ``[window]`` with ``start`` and
``end`` as "MM-DD", a ``[deadline]`` with ``days_after_end`` and ``time`` ("HH:MM", local), and
``[[tasks]]`` each with ``title``, ``description``, ``unit_kinds``, optional ``unit_category``,
``measure`` (done | quantity), ``target``, ``measure_unit``, ``requires_photo``,
``requires_document`` and ``due_days`` (days from the start). Unknown fields are refused so a
typo cannot silently drop a requirement.
"""
import tomllib
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import lru_cache
from pathlib import Path

from ..i18n import UNIT_CATEGORY_LABELS
from ..units.models import UnitKind
from .models import Measure, MeasureUnit

PLAYBOOK_DIR = Path(__file__).resolve().parent.parent / "playbooks"

PLAYBOOK_FIELDS = {"key", "title", "theme", "description", "window", "deadline", "tasks"}
TASK_FIELDS = {
    "title", "description", "unit_kinds", "unit_category", "measure", "target", "measure_unit",
    "requires_photo", "requires_document", "due_days",
}
MEASURES = {measure.value for measure in Measure}
MEASURE_UNITS = {unit.value for unit in MeasureUnit}


class PlaybookError(ValueError):
    """A playbook file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class PlaybookTask:
    title: str
    description: str
    unit_kinds: tuple[str, ...]
    unit_category: str | None
    measure: str
    target: int | None
    measure_unit: str | None
    requires_photo: bool
    requires_document: bool
    due_days: int | None

    def due_date(self, start: date) -> date | None:
        return None if self.due_days is None else start + timedelta(days=self.due_days)


@dataclass(frozen=True)
class Playbook:
    key: str
    title: str
    theme: str
    description: str
    window_start: tuple[int, int]  # (month, day)
    window_end: tuple[int, int]
    deadline_days_after_end: int
    deadline_time: time
    tasks: tuple[PlaybookTask, ...]

    def window_for(self, year: int) -> tuple[date, date]:
        """The default window in ``year``; a window whose end comes before its start ends the next year."""
        start = _month_day(year, self.window_start)
        end = _month_day(year, self.window_end)
        if end < start:
            end = _month_day(year + 1, self.window_end)
        return start, end

    def deadline_for(self, year: int) -> tuple[date, time]:
        """The default summary deadline as a local date and time."""
        return self.deadline_after(self.window_for(year)[1])

    def deadline_after(self, end: date) -> tuple[date, time]:
        return end + timedelta(days=self.deadline_days_after_end), self.deadline_time


def _month_day(year: int, month_day: tuple[int, int]) -> date:
    month, day = month_day
    try:
        return date(year, month, day)
    except ValueError:  # 29 February in a common year
        return date(year, month, day - 1)


def load_playbook(path: Path) -> Playbook:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PlaybookError(f"{path.name}: cannot read: {error}") from error
    return parse_playbook(data, source=path.name)


def parse_playbook(data: dict, source: str = "playbook") -> Playbook:
    def fail(message):
        raise PlaybookError(f"{source}: {message}")

    unknown = set(data) - PLAYBOOK_FIELDS
    if unknown:
        fail(f"unknown fields {sorted(unknown)}")
    key = _text(data, "key", fail, required=True)
    window = data.get("window")
    deadline = data.get("deadline")
    if not isinstance(window, dict) or set(window) != {"start", "end"}:
        fail('[window] needs exactly "start" and "end" as "MM-DD"')
    if not isinstance(deadline, dict) or set(deadline) != {"days_after_end", "time"}:
        fail('[deadline] needs exactly "days_after_end" and "time" as "HH:MM"')
    days_after_end = deadline["days_after_end"]
    if not _is_int(days_after_end) or days_after_end < 0:
        fail("deadline.days_after_end must be a whole number of days, 0 or more")
    tasks = data.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        fail("a playbook needs at least one [[tasks]] entry")
    return Playbook(
        key=key,
        title=_text(data, "title", fail, required=True),
        theme=_text(data, "theme", fail),
        description=_text(data, "description", fail),
        window_start=_parse_month_day(window["start"], "window.start", fail),
        window_end=_parse_month_day(window["end"], "window.end", fail),
        deadline_days_after_end=days_after_end,
        deadline_time=_parse_time(deadline["time"], fail),
        tasks=tuple(_parse_task(task, number, fail) for number, task in enumerate(tasks, start=1)),
    )


def _parse_task(data, number, fail) -> PlaybookTask:
    def task_fail(message):
        fail(f"task {number}: {message}")

    if not isinstance(data, dict):
        task_fail("must be a table")
    unknown = set(data) - TASK_FIELDS
    if unknown:
        task_fail(f"unknown fields {sorted(unknown)}")
    kinds = data.get("unit_kinds")
    if not isinstance(kinds, list) or not kinds:
        task_fail("unit_kinds must list at least one unit kind")
    bad_kinds = [kind for kind in kinds if kind not in UnitKind.values()]
    if bad_kinds:
        task_fail(f"unknown unit kinds {bad_kinds}; known: {UnitKind.values()}")
    measure = data.get("measure", Measure.DONE.value)
    if measure not in MEASURES:
        task_fail(f"unknown measure {measure!r}; known: {sorted(MEASURES)}")
    target = data.get("target")
    measure_unit = data.get("measure_unit")
    if measure == Measure.QUANTITY.value:
        if measure_unit not in MEASURE_UNITS:
            task_fail(f"a quantity needs a measure_unit, one of {sorted(MEASURE_UNITS)}; got {measure_unit!r}")
        if target is not None and (not _is_int(target) or target < 0):
            task_fail("target must be a whole number, 0 or more")
    elif target is not None or measure_unit is not None:
        task_fail('a "done" task has no target or measure_unit')
    due_days = data.get("due_days")
    if due_days is not None and (not _is_int(due_days) or due_days < 0):
        task_fail("due_days must be a whole number of days, 0 or more")
    flags = {}
    for flag in ("requires_photo", "requires_document"):
        flags[flag] = data.get(flag, False)
        if not isinstance(flags[flag], bool):
            task_fail(f"{flag} must be true or false")
    category = data.get("unit_category")
    if category is not None and (not isinstance(category, str) or category.strip() not in UNIT_CATEGORY_LABELS):
        task_fail(f"unit_category must be one of {', '.join(UNIT_CATEGORY_LABELS)}")
    return PlaybookTask(
        title=_text(data, "title", task_fail, required=True),
        description=_text(data, "description", task_fail),
        unit_kinds=tuple(dict.fromkeys(kinds)),
        unit_category=category.strip() if category else None,
        measure=measure,
        target=target,
        measure_unit=measure_unit,
        requires_photo=flags["requires_photo"],
        requires_document=flags["requires_document"],
        due_days=due_days,
    )


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(data, name, fail, required=False) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        fail(f"{name} must be text")
    value = value.strip()
    if required and not value:
        fail(f"{name} is required")
    return value


def _parse_month_day(value, name, fail) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in str(value).split("-"))
        date(2000, month, day)  # a leap year, so 02-29 is accepted
    except ValueError:
        fail(f'{name} must be "MM-DD", got {value!r}')
    return month, day


def _parse_time(value, fail) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        fail(f'deadline.time must be "HH:MM", got {value!r}')


def load_playbooks(directory: Path = PLAYBOOK_DIR) -> dict[str, Playbook]:
    playbooks = {}
    for path in sorted(Path(directory).glob("*.toml")):
        playbook = load_playbook(path)
        if playbook.key in playbooks:
            raise PlaybookError(f"{path.name}: key {playbook.key!r} is used twice")
        playbooks[playbook.key] = playbook
    return playbooks


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Playbook]:
    return load_playbooks(PLAYBOOK_DIR)


def list_playbooks() -> list[Playbook]:
    return list(_shipped().values())


def get_playbook(key: str) -> Playbook | None:
    return _shipped().get(key)
