"""Water points, patrols and hazards: registering, checking positions, overdue rules, scoped lists.

Every function that reads takes the user and filters through ``permissions.units_within``; every
write checks the scope again, flushes and leaves an audit record. The caller commits.
"""
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError

from .. import permissions
from ..audit.services import record, snapshot
from ..campaigns.models import InvalidTransition
from ..database import utcnow
from ..extensions import db
from ..timeutil import local_to_utc, local_today
from ..units.models import Unit, UnitKind
from .models import (
    DangerLevel,
    Hazard,
    HazardStatus,
    Patrol,
    WaterKind,
    WaterPhoto,
    WaterPoint,
    WaterPointStatus,
)

POINT_UNIT_KINDS = (UnitKind.VILLAGE.value, UnitKind.COMMUNITY.value)
KINDS = tuple(kind.value for kind in WaterKind)
DANGER_LEVELS = tuple(level.value for level in DangerLevel)
POINT_FIELDS = ("name", "kind", "latitude", "longitude", "is_key", "danger_level", "has_permanent_sign",
                "sign_count", "life_buoys", "poles", "ropes", "has_fence", "responsible_name",
                "responsible_phone", "notes", "patrol_interval_days")
AUDITED_POINT_FIELDS = ("unit_id", *POINT_FIELDS, "status", "needs_position_check")
COUNT_FIELDS = ("sign_count", "life_buoys", "poles", "ropes")
MAX_LENGTHS = {"name": 120, "responsible_name": 60, "responsible_phone": 40}
PHOTO_PURPOSES = ("point", "patrol", "hazard", "closing")

# Mainland China, roughly: used only to tell a swapped latitude/longitude pair.
CHINA_LATITUDE = (18.0, 54.0)
CHINA_LONGITUDE = (73.0, 135.0)
FAR_OUTSIDE_KM = 50.0
EARTH_RADIUS_KM = 6371.0088


class WaterError(ValueError):
    """A refused change; ``code`` names the reason, ``field`` the form field it concerns."""

    def __init__(self, code: str, field: str | None = None, **details):
        super().__init__(code)
        self.code = code
        self.field = field
        self.details = details


# --- Positions ----------------------------------------------------------------------------------


def parse_coordinate(value, name: str) -> float:
    """A latitude or longitude typed by a user (or read from a file) as a finite float in range."""
    limit = 90.0 if name == "latitude" else 180.0
    if value is None or (isinstance(value, str) and not value.strip()):
        raise WaterError(f"{name}_required", name)
    try:
        number = float(value.strip().replace("，", ".") if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise WaterError(f"{name}_not_number", name, value=str(value)) from None
    if not math.isfinite(number):
        raise WaterError(f"{name}_not_number", name, value=str(value))
    if not -limit <= number <= limit:
        raise WaterError(f"{name}_out_of_range", name, value=str(value))
    return number


def in_china(latitude: float, longitude: float) -> bool:
    return (CHINA_LATITUDE[0] <= latitude <= CHINA_LATITUDE[1]
            and CHINA_LONGITUDE[0] <= longitude <= CHINA_LONGITUDE[1])


def check_position(latitude, longitude) -> tuple[float, float]:
    """The typed pair as numbers, or a WaterError: not a number, out of range, or seemingly swapped
    (the pair lies outside China while the swapped pair lies inside)."""
    numbers = {}
    for name, value in (("latitude", latitude), ("longitude", longitude)):
        try:
            numbers[name] = parse_coordinate(value, name)
        except WaterError as error:
            if error.code != f"{name}_out_of_range":
                raise
            numbers[name] = float(value)
    lat, lon = numbers["latitude"], numbers["longitude"]
    if not in_china(lat, lon) and in_china(lon, lat):
        raise WaterError("swapped", "latitude", latitude=_format_number(lat), longitude=_format_number(lon))
    parse_coordinate(lat, "latitude")
    parse_coordinate(lon, "longitude")
    return lat, lon


def _format_number(number: float) -> str:
    return f"{number:.6f}".rstrip("0").rstrip(".")


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class BoundingBox:
    south: float
    west: float
    north: float
    east: float

    def distance_km(self, latitude: float, longitude: float) -> float:
        """Distance to the nearest point of the box (0 inside it)."""
        nearest_lat = min(max(latitude, self.south), self.north)
        nearest_lon = min(max(longitude, self.west), self.east)
        return haversine_km(latitude, longitude, nearest_lat, nearest_lon)


def county_of(unit) -> Unit | None:
    """The county (or, in a tree without one, the top unit) above a village: one query."""
    ids = [*unit.ancestor_ids, unit.id]
    rows = db.session.execute(select(Unit).where(Unit.id.in_(ids))).scalars().all()
    by_id = {row.id: row for row in rows}
    for unit_id in reversed(ids):
        row = by_id.get(unit_id)
        if row is not None and row.kind == UnitKind.COUNTY.value:
            return row
    return by_id.get(ids[0])


def units_bounding_box(area: Unit) -> BoundingBox | None:
    """The box around every unit under ``area`` whose position is known; None when none is."""
    row = db.session.execute(
        select(func.min(Unit.latitude), func.min(Unit.longitude), func.max(Unit.latitude), func.max(Unit.longitude))
        .where(Unit.path.startswith(area.path), Unit.latitude.is_not(None), Unit.longitude.is_not(None))
    ).one()
    if row[0] is None:
        return None
    return BoundingBox(*row)


def is_far_outside(latitude, longitude, box: BoundingBox | None) -> bool:
    return box is not None and box.distance_km(latitude, longitude) > FAR_OUTSIDE_KM


def position_needs_check(unit, latitude, longitude) -> bool:
    county = county_of(unit)
    return county is not None and is_far_outside(latitude, longitude, units_bounding_box(county))


# --- Scope ---------------------------------------------------------------------------------------


def village_choices(user, township_id=None) -> list[tuple[int, str]]:
    """Villages and communities a user may register water points for (or filter by), in tree order."""
    parent = aliased(Unit)
    query = (
        select(Unit.id, Unit.name, parent.name)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(permissions.units_within(user), Unit.kind.in_(POINT_UNIT_KINDS))
        .order_by(Unit.path)
    )
    if township_id:
        query = query.where(Unit.parent_id == township_id)
    rows = db.session.execute(query).all()
    own_village = user.unit.kind in POINT_UNIT_KINDS
    return [(unit_id, name if own_village or not township else f"{township} · {name}")
            for unit_id, name, township in rows]


def township_choices(user) -> list[tuple[int, str]]:
    return [tuple(row) for row in db.session.execute(
        select(Unit.id, Unit.name)
        .where(permissions.units_within(user), Unit.kind == UnitKind.TOWNSHIP.value)
        .order_by(Unit.path)
    )]


def can_edit(user) -> bool:
    return permissions.has_permission(user, "water.edit")


def point_for(user, point_id) -> WaterPoint | None:
    """The water point when it lies within the user's area, else None (the view answers 404)."""
    return db.session.scalar(
        select(WaterPoint).join(Unit, Unit.id == WaterPoint.unit_id)
        .where(WaterPoint.id == point_id, permissions.units_within(user))
    )


def hazard_for(user, hazard_id) -> Hazard | None:
    return db.session.scalar(
        select(Hazard).join(WaterPoint, WaterPoint.id == Hazard.water_point_id)
        .join(Unit, Unit.id == WaterPoint.unit_id)
        .where(Hazard.id == hazard_id, permissions.units_within(user))
    )


def photo_for(user, photo_id) -> WaterPhoto | None:
    return db.session.scalar(
        select(WaterPhoto).join(WaterPoint, WaterPoint.id == WaterPhoto.water_point_id)
        .join(Unit, Unit.id == WaterPoint.unit_id)
        .where(WaterPhoto.id == photo_id, permissions.units_within(user))
    )


def _check_village(actor, unit):
    if unit is None or not permissions.unit_is_within(actor, unit):
        raise WaterError("village_out_of_scope", "unit_id")
    if unit.kind not in POINT_UNIT_KINDS:
        raise WaterError("not_a_village", "unit_id")


def _require_edit(actor):
    if not can_edit(actor):
        raise WaterError("not_allowed")


# --- Water points ---------------------------------------------------------------------------------


def clean_point_fields(fields: dict) -> dict:
    """Check and normalise the fields of a water point (strings stripped, counts ≥ 0, known kinds)."""
    values = {}
    for name in POINT_FIELDS:
        value = fields.get(name)
        if isinstance(value, str):
            value = value.strip()
        values[name] = value
    if not values["name"]:
        raise WaterError("name_required", "name")
    for name, limit in MAX_LENGTHS.items():
        if values[name] and len(values[name]) > limit:
            raise WaterError("too_long", name, limit=limit)
        values[name] = values[name] or ""
    values["notes"] = values["notes"] or ""
    if values["kind"] not in KINDS:
        raise WaterError("unknown_kind", "kind", value=values["kind"] or "")
    values["danger_level"] = values["danger_level"] or DangerLevel.LOW.value
    if values["danger_level"] not in DANGER_LEVELS:
        raise WaterError("unknown_danger", "danger_level", value=values["danger_level"])
    for name in COUNT_FIELDS:
        value = values[name] or 0
        if not isinstance(value, int) or value < 0:
            raise WaterError("bad_count", name, value=str(value))
        values[name] = value
    for name in ("is_key", "has_permanent_sign", "has_fence"):
        values[name] = bool(values[name])
    if values["sign_count"] and not values["has_permanent_sign"]:
        values["has_permanent_sign"] = True
    interval = values["patrol_interval_days"]
    if interval is not None and (not isinstance(interval, int) or not 1 <= interval <= 366):
        raise WaterError("bad_interval", "patrol_interval_days", value=str(interval))
    values["latitude"], values["longitude"] = check_position(values["latitude"], values["longitude"])
    return values


def create_water_point(*, actor, unit, **fields) -> WaterPoint:
    """Register a water point of a village within the actor's area. ``fields``: POINT_FIELDS."""
    _require_edit(actor)
    _check_village(actor, unit)
    values = clean_point_fields(fields)
    point = WaterPoint(unit_id=unit.id, created_by_id=actor.id, **values)
    point.needs_position_check = position_needs_check(unit, values["latitude"], values["longitude"])
    db.session.add(point)
    db.session.flush()
    record("water_point.create", "water_point", point.id, after=snapshot(point, AUDITED_POINT_FIELDS), actor=actor)
    return point


def update_water_point(point, *, actor, unit, expected_version=None, **fields) -> WaterPoint:
    """Change a water point; a moved position is checked again against the county."""
    _require_edit(actor)
    _check_village(actor, point.unit)
    _check_village(actor, unit)
    if expected_version is not None and expected_version != point.version:
        raise WaterError("changed_meanwhile")
    values = clean_point_fields(fields)
    before = snapshot(point, AUDITED_POINT_FIELDS)
    moved = (unit.id != point.unit_id or values["latitude"] != point.latitude
             or values["longitude"] != point.longitude)
    for name, value in values.items():
        setattr(point, name, value)
    point.unit_id = unit.id
    if moved:
        point.needs_position_check = position_needs_check(unit, values["latitude"], values["longitude"])
    try:
        db.session.flush()
    except StaleDataError:
        # Saved by someone else between our read and this write (the version column caught it).
        raise WaterError("changed_meanwhile") from None
    record("water_point.update", "water_point", point.id, before=before,
           after=snapshot(point, AUDITED_POINT_FIELDS), actor=actor)
    return point


def set_point_status(point, *, actor, status: str) -> WaterPoint:
    """Archive a water point that is gone (filled in, drained) or bring it back."""
    _require_edit(actor)
    _check_village(actor, point.unit)
    if status not in {item.value for item in WaterPointStatus}:
        raise WaterError("unknown_status")
    before = snapshot(point, ("status",))
    point.status = status
    db.session.flush()
    record("water_point.status", "water_point", point.id, before=before, after={"status": status}, actor=actor)
    return point


def confirm_position(point, *, actor) -> WaterPoint:
    """The second look found the position right: clear the flag."""
    _require_edit(actor)
    _check_village(actor, point.unit)
    point.needs_position_check = False
    db.session.flush()
    record("water_point.position_confirmed", "water_point", point.id,
           after={"latitude": point.latitude, "longitude": point.longitude}, actor=actor)
    return point


# --- Patrols ---------------------------------------------------------------------------------------


def patrol_interval(point) -> timedelta:
    days = point.patrol_interval_days or current_app.config["WATER_PATROL_INTERVAL_DAYS"]
    return timedelta(days=days)


def patrol_overdue(point, now: datetime | None = None) -> bool:
    """A key, active water point whose last patrol (or registration, when never patrolled) is older
    than its interval. Exactly the interval is not yet overdue."""
    if not point.is_key or point.status != WaterPointStatus.ACTIVE.value:
        return False
    now = now or utcnow()
    base = point.last_patrol_at or point.created_at
    return base is not None and now - base > patrol_interval(point)


def patrol_overdue_condition(now: datetime | None = None):
    """The same rule as ``patrol_overdue`` as SQL: one small query for the distinct custom intervals."""
    now = now or utcnow()
    default_days = current_app.config["WATER_PATROL_INTERVAL_DAYS"]
    base = func.coalesce(WaterPoint.last_patrol_at, WaterPoint.created_at)
    custom = db.session.scalars(
        select(WaterPoint.patrol_interval_days).where(WaterPoint.patrol_interval_days.is_not(None)).distinct()
    ).all()
    by_interval = [and_(WaterPoint.patrol_interval_days.is_(None), base < now - timedelta(days=default_days))]
    by_interval += [and_(WaterPoint.patrol_interval_days == days, base < now - timedelta(days=days))
                    for days in custom]
    return and_(WaterPoint.is_key.is_(True), WaterPoint.status == WaterPointStatus.ACTIVE.value,
                or_(*by_interval))


def record_patrol(point, *, actor, patrolled_at: datetime, patroller_name: str, sign_intact=True,
                  rescue_equipment_present=True, people_swimming=0, findings="") -> Patrol:
    """Log a patrol; the point's ``last_patrol_at`` becomes the newest patrol time (a late entry of
    an older patrol does not move it back)."""
    _require_edit(actor)
    _check_village(actor, point.unit)
    patroller_name = (patroller_name or "").strip()
    if not patroller_name:
        raise WaterError("patroller_required", "patroller_name")
    if len(patroller_name) > 60:
        raise WaterError("too_long", "patroller_name", limit=60)
    if patrolled_at is None or patrolled_at.tzinfo is None:
        raise WaterError("patrol_time_required", "patrol_date")
    if patrolled_at > utcnow() + timedelta(minutes=5):
        raise WaterError("patrol_in_future", "patrol_date")
    if people_swimming is None or people_swimming < 0:
        raise WaterError("bad_count", "people_swimming", value=str(people_swimming))
    patrol = Patrol(
        water_point_id=point.id, patrolled_at=patrolled_at, patroller_name=patroller_name,
        sign_intact=bool(sign_intact), rescue_equipment_present=bool(rescue_equipment_present),
        people_swimming=people_swimming, findings=(findings or "").strip(), created_by_id=actor.id,
    )
    db.session.add(patrol)
    db.session.flush()
    # One conditional UPDATE, so two patrols saved at the same moment still leave the newest time.
    db.session.execute(
        update(WaterPoint)
        .where(WaterPoint.id == point.id,
               or_(WaterPoint.last_patrol_at.is_(None), WaterPoint.last_patrol_at < patrolled_at))
        .values(last_patrol_at=patrolled_at)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(point, ["last_patrol_at"])
    record("patrol.create", "patrol", patrol.id, after={
        "water_point_id": point.id, "patrolled_at": patrolled_at.isoformat(), "patroller_name": patroller_name,
        "sign_intact": patrol.sign_intact, "rescue_equipment_present": patrol.rescue_equipment_present,
        "people_swimming": people_swimming,
    }, actor=actor)
    return patrol


# --- Hazards ---------------------------------------------------------------------------------------


def hazard_overdue(hazard, today: date | None = None) -> bool:
    """Not closed and the rectify-by date has passed (the rectify-by day itself is still in time)."""
    today = today or local_today()
    return hazard.status != HazardStatus.CLOSED.value and hazard.rectify_by < today


def hazard_overdue_condition(today: date | None = None):
    today = today or local_today()
    return and_(Hazard.status != HazardStatus.CLOSED.value, Hazard.rectify_by < today)


def record_hazard(point, *, actor, found_on: date, description: str, rectify_by: date, owner_name: str) -> Hazard:
    _require_edit(actor)
    _check_village(actor, point.unit)
    description = (description or "").strip()
    owner_name = (owner_name or "").strip()
    if found_on is None:
        raise WaterError("found_on_required", "found_on")
    if found_on > local_today():
        raise WaterError("found_in_future", "found_on")
    if not description:
        raise WaterError("description_required", "description")
    if rectify_by is None:
        raise WaterError("rectify_by_required", "rectify_by")
    if rectify_by < found_on:
        raise WaterError("rectify_before_found", "rectify_by")
    if not owner_name:
        raise WaterError("owner_required", "owner_name")
    if len(owner_name) > 60:
        raise WaterError("too_long", "owner_name", limit=60)
    hazard = Hazard(water_point_id=point.id, found_on=found_on, description=description, rectify_by=rectify_by,
                    owner_name=owner_name, created_by_id=actor.id)
    db.session.add(hazard)
    db.session.flush()
    record("hazard.create", "hazard", hazard.id, after=snapshot(
        hazard, ("water_point_id", "found_on", "description", "rectify_by", "owner_name", "status")), actor=actor)
    return hazard


def closing_photo_count(hazard) -> int:
    return db.session.scalar(
        select(func.count(WaterPhoto.id)).where(WaterPhoto.hazard_id == hazard.id, WaterPhoto.purpose == "closing")
    )


def move_hazard(hazard, *, actor, status: str, closing_note: str = "") -> Hazard:
    """open → in progress → closed. Closing needs a note and at least one closing photo, attached
    (``attach_photo(..., purpose="closing")``) before this call in the same transaction."""
    _require_edit(actor)
    _check_village(actor, hazard.water_point.unit)
    before = snapshot(hazard, ("status", "closing_note"))
    if status == HazardStatus.CLOSED.value:
        closing_note = (closing_note or "").strip()
        if not closing_note:
            raise WaterError("closing_note_required", "closing_note")
        if closing_photo_count(hazard) == 0:
            raise WaterError("closing_photo_required", "photos")
    try:
        hazard.move_to(status)
    except InvalidTransition:
        raise WaterError("bad_transition", status=status) from None
    if status == HazardStatus.CLOSED.value:
        hazard.closing_note = closing_note
        hazard.closed_by_id = actor.id
    db.session.flush()
    record("hazard.status", "hazard", hazard.id, before=before,
           after=snapshot(hazard, ("status", "closing_note")), actor=actor)
    return hazard


@dataclass
class OverdueCounts:
    villages: list  # (village id, village name, township id, township name, count), by township then village
    townships: list  # (township id, township name, count)
    total: int = 0

    def villages_of(self, township_id) -> list:
        return [row for row in self.villages if row[2] == township_id]


def overdue_hazard_counts(user, today: date | None = None) -> OverdueCounts:
    """Overdue hazards within the user's area per village and per township: one aggregate query."""
    village = aliased(Unit)
    township = aliased(Unit)
    rows = db.session.execute(
        select(village.id, village.name, township.id, township.name, func.count(Hazard.id))
        .select_from(Hazard)
        .join(WaterPoint, WaterPoint.id == Hazard.water_point_id)
        .join(village, village.id == WaterPoint.unit_id)
        .outerjoin(township, township.id == village.parent_id)
        .where(hazard_overdue_condition(today), village.path.startswith(user.unit.path))
        .group_by(village.id, village.name, village.path, township.id, township.name, township.path)
        .order_by(township.path, village.path)
    ).all()
    townships = {}
    for _, _, township_id, township_name, count in rows:
        entry = townships.setdefault(township_id, [township_id, township_name, 0])
        entry[2] += count
    return OverdueCounts(villages=[tuple(row) for row in rows], townships=[tuple(entry) for entry in townships.values()],
                         total=sum(row[4] for row in rows))


# --- Photos ----------------------------------------------------------------------------------------


def attach_photo(point, *, actor, upload, purpose: str, patrol=None, hazard=None) -> WaterPhoto:
    """Attach a stored upload (evidence ``store_upload`` result) to a point, a patrol or a hazard."""
    _require_edit(actor)
    _check_village(actor, point.unit)
    if purpose not in PHOTO_PURPOSES:
        raise WaterError("bad_purpose")
    photo = WaterPhoto(
        stored_file_id=upload.stored_file.id, water_point_id=point.id,
        patrol_id=patrol.id if patrol is not None else None, hazard_id=hazard.id if hazard is not None else None,
        purpose=purpose, original_name=(upload.original_name or "")[:255], uploaded_by_id=actor.id,
    )
    db.session.add(photo)
    db.session.flush()
    record("water_photo.create", "water_photo", photo.id, after={
        "water_point_id": point.id, "patrol_id": photo.patrol_id, "hazard_id": photo.hazard_id,
        "purpose": purpose, "stored_file_id": photo.stored_file_id,
    }, actor=actor)
    return photo


# --- Lists ------------------------------------------------------------------------------------------

SORTS = ("village", "name", "danger", "last_patrol", "hazards", "newest")
DANGER_ORDER = case({"high": 0, "medium": 1, "low": 2}, value=WaterPoint.danger_level, else_=3)


@dataclass
class PointFilters:
    township_id: int | None = None
    village_id: int | None = None
    kind: str | None = None
    key_only: bool = False
    sign_missing: bool = False
    patrol_overdue: bool = False
    open_hazards: bool = False
    position_check: bool = False
    status: str = WaterPointStatus.ACTIVE.value  # "" for every state
    text: str = ""
    sort: str = "village"

    @classmethod
    def from_args(cls, args) -> "PointFilters":
        def flag(name):
            return args.get(name, "") in ("1", "on", "true", "y")

        kind = args.get("kind") or None
        status = args.get("status", WaterPointStatus.ACTIVE.value)
        return cls(
            township_id=args.get("township", type=int),
            village_id=args.get("village", type=int),
            kind=kind if kind in KINDS else None,
            key_only=flag("key"),
            sign_missing=flag("sign_missing"),
            patrol_overdue=flag("overdue"),
            open_hazards=flag("hazards"),
            position_check=flag("check"),
            status=status if status in ("", *(item.value for item in WaterPointStatus)) else "active",
            text=(args.get("q") or "").strip()[:120],
            sort=args.get("sort") if args.get("sort") in SORTS else "village",
        )

    def as_args(self) -> dict:
        """The query-string arguments that give these filters back (for export links and pages)."""
        args = {"township": self.township_id, "village": self.village_id, "kind": self.kind,
                "key": "1" if self.key_only else None, "sign_missing": "1" if self.sign_missing else None,
                "overdue": "1" if self.patrol_overdue else None, "hazards": "1" if self.open_hazards else None,
                "check": "1" if self.position_check else None, "q": self.text or None, "sort": self.sort}
        if self.status != WaterPointStatus.ACTIVE.value:
            args["status"] = self.status
        return {key: value for key, value in args.items() if value not in (None, "")}


@dataclass
class PointRow:
    point: WaterPoint
    village: str
    township: str
    village_code: str
    open_hazards: int
    overdue_hazards: int
    patrol_overdue: bool


@dataclass
class PointPage:
    items: list
    total: int
    page: int
    per_page: int
    filters: PointFilters = field(default_factory=PointFilters)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _hazard_counts(today):
    """A point's open and overdue hazards as correlated counts (one index look-up per point on
    ix_hazard_point_status), not a join to an aggregated derived table: PostgreSQL without statistics
    (right after a load) plans that join as a nested loop over the whole aggregate (docs/stack-traps.md)."""
    def count(*conditions):
        return (
            select(func.count(Hazard.id))
            .where(Hazard.water_point_id == WaterPoint.id, Hazard.status != HazardStatus.CLOSED.value, *conditions)
            .correlate(WaterPoint)
            .scalar_subquery()
        )
    return count(), count(Hazard.rectify_by < today)


def _point_query(user, filters: PointFilters, now, today):
    """The scoped, filtered select of (point, village, township, open hazards, overdue hazards)."""
    village = aliased(Unit)
    township = aliased(Unit)
    open_count, overdue_count = _hazard_counts(today)
    query = (
        select(WaterPoint, village.name.label("village_name"), township.name.label("township_name"),
               village.code.label("village_code"), open_count.label("open_hazards"),
               overdue_count.label("overdue_hazards"))
        .join(village, village.id == WaterPoint.unit_id)
        .outerjoin(township, township.id == village.parent_id)
        .where(village.path.startswith(user.unit.path))
    )
    if filters.status:
        query = query.where(WaterPoint.status == filters.status)
    if filters.township_id:
        query = query.where(village.parent_id == filters.township_id)
    if filters.village_id:
        query = query.where(WaterPoint.unit_id == filters.village_id)
    if filters.kind:
        query = query.where(WaterPoint.kind == filters.kind)
    if filters.key_only:
        query = query.where(WaterPoint.is_key.is_(True))
    if filters.sign_missing:
        query = query.where(or_(WaterPoint.has_permanent_sign.is_(False), WaterPoint.sign_count == 0))
    if filters.patrol_overdue:
        query = query.where(patrol_overdue_condition(now))
    if filters.open_hazards:
        query = query.where(
            select(Hazard.id).where(Hazard.water_point_id == WaterPoint.id,
                                    Hazard.status != HazardStatus.CLOSED.value).correlate(WaterPoint).exists()
        )
    if filters.position_check:
        query = query.where(WaterPoint.needs_position_check.is_(True))
    if filters.text:
        query = query.where(WaterPoint.name.contains(filters.text, autoescape=True))
    order = {
        "village": (township.path, village.path, WaterPoint.name),
        "name": (WaterPoint.name,),
        "danger": (DANGER_ORDER, township.path, village.path, WaterPoint.name),
        "last_patrol": (WaterPoint.last_patrol_at.is_not(None), WaterPoint.last_patrol_at, WaterPoint.name),
        "hazards": (overdue_count.desc(), open_count.desc(), WaterPoint.name),
        "newest": (WaterPoint.created_at.desc(),),
    }[filters.sort]
    return query.order_by(*order, WaterPoint.id)


def _rows(result, now) -> list:
    return [
        PointRow(point, village or "", township or "", code or "", int(open_count or 0), int(overdue or 0),
                 patrol_overdue(point, now))
        for point, village, township, code, open_count, overdue in result
    ]


def list_water_points(user, filters: PointFilters, page: int = 1, per_page: int = 50) -> PointPage:
    """One page of the water points within the user's area: a count, the rows, and (when the overdue
    filter is on) the distinct patrol intervals — whatever the number of points or hazards."""
    now, today = utcnow(), local_today()
    page = max(1, page)
    query = _point_query(user, filters, now, today)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    result = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return PointPage(items=_rows(result, now), total=total, page=page, per_page=per_page, filters=filters)


def all_water_points(user, filters: PointFilters) -> list:
    """Every water point the list would show, for the exports (no paging)."""
    now, today = utcnow(), local_today()
    return _rows(db.session.execute(_point_query(user, filters, now, today)).all(), now)


@dataclass
class PointDetail:
    point: WaterPoint
    village: Unit
    township: Unit | None
    patrols: list
    hazards: list
    photos: dict  # ("point", None) / ("patrol", id) / ("hazard", id) / ("closing", id) → [WaterPhoto]
    patrol_overdue: bool
    patrols_shown_limit: int


PATROLS_SHOWN = 100


def point_detail(point) -> PointDetail:
    """The point with its newest patrols, its hazards and its photos: four queries."""
    village = point.unit
    township = db.session.get(Unit, village.parent_id) if village.parent_id else None
    patrols = db.session.scalars(
        select(Patrol).where(Patrol.water_point_id == point.id)
        .order_by(Patrol.patrolled_at.desc(), Patrol.id.desc()).limit(PATROLS_SHOWN)
    ).all()
    hazards = db.session.scalars(
        select(Hazard).where(Hazard.water_point_id == point.id)
        .order_by(case((Hazard.status == HazardStatus.CLOSED.value, 1), else_=0), Hazard.rectify_by, Hazard.id)
    ).all()
    photos = {}
    for photo in db.session.scalars(
        select(WaterPhoto).where(WaterPhoto.water_point_id == point.id).order_by(WaterPhoto.id)
    ):
        if photo.purpose == "patrol":
            key = ("patrol", photo.patrol_id)
        elif photo.purpose in ("hazard", "closing"):
            key = (photo.purpose, photo.hazard_id)
        else:
            key = ("point", None)
        photos.setdefault(key, []).append(photo)
    return PointDetail(point=point, village=village, township=township, patrols=patrols, hazards=hazards,
                       photos=photos, patrol_overdue=patrol_overdue(point), patrols_shown_limit=PATROLS_SHOWN)


@dataclass
class HazardRow:
    hazard: Hazard
    point_name: str
    village: str
    township: str
    overdue: bool


def list_hazards(user, *, status: str = "open", township_id=None, overdue_only=False, page=1,
                 per_page=50) -> tuple[list, int]:
    """Hazards within the user's area; ``status`` "open" means not closed, "" every state."""
    today = local_today()
    village = aliased(Unit)
    township = aliased(Unit)
    query = (
        select(Hazard, WaterPoint.name, village.name, township.name)
        .join(WaterPoint, WaterPoint.id == Hazard.water_point_id)
        .join(village, village.id == WaterPoint.unit_id)
        .outerjoin(township, township.id == village.parent_id)
        .where(village.path.startswith(user.unit.path))
    )
    if status == "open":
        query = query.where(Hazard.status != HazardStatus.CLOSED.value)
    elif status:
        query = query.where(Hazard.status == status)
    if township_id:
        query = query.where(village.parent_id == township_id)
    if overdue_only:
        query = query.where(hazard_overdue_condition(today))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(Hazard.rectify_by, Hazard.id).limit(per_page).offset((max(1, page) - 1) * per_page)
    ).all()
    return [HazardRow(hazard, point_name, village_name, township_name or "", hazard_overdue(hazard, today))
            for hazard, point_name, village_name, township_name in rows], total


# --- Rows for the exports and the official forms -------------------------------------------------------


def _patrol_query(user, filters: PointFilters, start: date | None, end: date | None):
    points = _point_query(user, filters, utcnow(), local_today()).order_by(None).subquery()
    query = (
        select(Patrol, points.c.name, points.c.village_name, points.c.township_name)
        .join(points, points.c.id == Patrol.water_point_id)
    )
    if start:
        query = query.where(Patrol.patrolled_at >= local_to_utc(start, time(0, 0)))
    if end:
        query = query.where(Patrol.patrolled_at < local_to_utc(end + timedelta(days=1), time(0, 0)))
    return query, points


def patrols_for_export(user, filters: PointFilters, start: date | None = None, end: date | None = None) -> list:
    """(patrol, point name, village, township) for the points the list shows, by village then time;
    the dates are local days, both included."""
    query, points = _patrol_query(user, filters, start, end)
    return [tuple(row) for row in db.session.execute(
        query.order_by(points.c.township_name, points.c.village_name, Patrol.patrolled_at, Patrol.id))]


def list_patrols(user, filters: PointFilters, start: date | None = None, end: date | None = None, page: int = 1,
                 per_page: int = 50) -> tuple[list, int]:
    """One page of patrols of the points the list shows, newest first: two queries."""
    query, _ = _patrol_query(user, filters, start, end)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(Patrol.patrolled_at.desc(), Patrol.id.desc()).limit(per_page).offset((max(1, page) - 1) * per_page)
    ).all()
    return [tuple(row) for row in rows], total
