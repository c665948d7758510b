"""Accounts: creating users, checking passwords with throttling, changing passwords."""
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import contains_eager
from werkzeug.security import check_password_hash, generate_password_hash

from .. import permissions
from ..api.services import revoke_all_tokens
from ..audit.services import record, snapshot
from ..campaigns.models import Campaign, CampaignStatus
from ..database import utcnow
from ..extensions import db
from ..units.models import Unit
from .models import LoginAttempt, LoginSession, Role, User

AUDITED_FIELDS = ("username", "display_name", "phone", "role", "unit_id", "active")


class AccountError(ValueError):
    """A refused account operation; ``code`` names the reason for messages and the API."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


def password_problem(password: str) -> str | None:
    """Why a password is too weak, or None. At least the configured length, letters and digits."""
    if len(password or "") < current_app.config["PASSWORD_MIN_LENGTH"]:
        return "too_short"
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        return "needs_letters_and_digits"
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def generate_password() -> str:
    """A random password that passes the strength rule, for bulk-created accounts."""
    return f"{secrets.token_urlsafe(8)}{secrets.randbelow(90) + 10}a"


def same_username(username: str):
    """SQL filter: the user of that name, whatever its case (as the unique index on lower() sees it)."""
    return func.lower(User.username) == func.lower(username)


def username_taken(username: str, taken: str) -> "AccountError":
    if taken == username:
        return AccountError("username_taken", username=username)
    return AccountError("username_taken_ignoring_case", username=username, existing=taken)


def create_user(*, username, password, role, unit, display_name="", phone=None, actor=None) -> User:
    """Create a user; ``actor`` (None from the CLI) must be allowed to grant the role on the unit."""
    username = (username or "").strip()
    if not username:
        raise AccountError("username_required")
    taken = db.session.scalar(select(User.username).where(same_username(username)))
    if taken is not None:
        raise username_taken(username, taken)
    if role not in Role.values():
        raise AccountError("unknown_role", role=role)
    if unit is None:
        raise AccountError("unknown_unit")
    if actor is not None:
        if role not in permissions.grantable_roles(actor):
            raise AccountError("role_not_grantable", role=role)
        if not permissions.unit_is_within(actor, unit):
            raise AccountError("unit_out_of_scope")
    if not permissions.role_fits_unit(role, unit):
        raise AccountError("role_does_not_fit_unit", role=role, kind=unit.kind)
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user = User(
        username=username,
        display_name=(display_name or "").strip(),
        phone=(phone or "").strip() or None,
        role=role,
        unit=unit,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    record("user.create", "user", user.id, after=snapshot(user, AUDITED_FIELDS), actor=actor)
    return user


def update_user(user: User, *, actor, display_name, phone, role, unit, active) -> User:
    if not permissions.can_manage_user(actor, user):
        raise AccountError("not_allowed")
    if role not in permissions.grantable_roles(actor):
        raise AccountError("role_not_grantable", role=role)
    if not permissions.unit_is_within(actor, unit):
        raise AccountError("unit_out_of_scope")
    if not permissions.role_fits_unit(role, unit):
        raise AccountError("role_does_not_fit_unit", role=role, kind=unit.kind)
    if user.id == actor.id and (not active or role != user.role):
        raise AccountError("cannot_demote_self")
    before = snapshot(user, AUDITED_FIELDS)
    user.display_name = (display_name or "").strip()
    user.phone = (phone or "").strip() or None
    user.role = role
    user.unit = unit
    if user.active and not active:
        end_sessions(user)
        # Revoked, not suspended: reactivating the account must not bring back a token that leaked.
        revoke_all_tokens(user, actor, reason="user_deactivated")
    user.active = active
    db.session.flush()
    record("user.update", "user", user.id, before=before, after=snapshot(user, AUDITED_FIELDS), actor=actor)
    return user


def set_password(user: User, new_password: str, actor=None, keep_token: str | None = None):
    """Set the password and end every session of the user but ``keep_token``'s."""
    problem = password_problem(new_password)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(new_password)
    end_sessions(user, except_token=keep_token)
    record("user.password", "user", user.id, actor=actor)


def change_own_password(user: User, current_password: str, new_password: str):
    """The user's other sessions end (a stolen one too); the one they are using goes on."""
    if not check_password_hash(user.password_hash, current_password or ""):
        raise AccountError("wrong_password")
    set_password(user, new_password, actor=user, keep_token=user.login_token)


def login_lifetime(user: User, now=None) -> timedelta:
    """How long a new login lasts: LOGIN_SESSION_DAYS when configured; else until the latest deadline
    of the active campaigns the user can see (at least a day, so a login on deadline day still
    carries the user through it), else LOGIN_SESSION_DEFAULT_DAYS; never over LOGIN_SESSION_LONGEST_DAYS."""
    config = current_app.config
    longest = timedelta(days=int(config["LOGIN_SESSION_LONGEST_DAYS"]))
    if config.get("LOGIN_SESSION_DAYS"):
        return min(timedelta(days=int(config["LOGIN_SESSION_DAYS"])), longest)
    now = now or utcnow()
    latest = db.session.scalar(
        select(func.max(Campaign.deadline_at))
        .join(Unit, Unit.id == Campaign.root_unit_id)
        .where(Campaign.status == CampaignStatus.ACTIVE.value, permissions.campaigns_visible_to(user))
    )
    if latest is None or latest <= now:
        return min(timedelta(days=int(config["LOGIN_SESSION_DEFAULT_DAYS"])), longest)
    return min(max(latest - now, timedelta(days=1)), longest)


def start_session(user: User, address: str) -> LoginSession:
    """A new server-side login session; its token goes into the signed cookie, which expires with it."""
    now = utcnow()
    login = LoginSession(token=secrets.token_urlsafe(32), user_id=user.id, address=(address or "")[:64],
                         created_at=now, expires_at=now + login_lifetime(user, now))
    db.session.add(login)
    user.login_token = login.token
    return login


def end_session(token: str | None):
    if token:
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.token == token, LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def end_sessions(user: User, except_token: str | None = None):
    query = update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    if except_token:
        query = query.where(LoginSession.token != except_token)
    db.session.execute(query.values(ended_at=utcnow()))


@dataclass
class LoginResult:
    user: User | None = None
    error: str | None = None  # "bad_credentials" or "throttled"
    wait: timedelta | None = None  # when throttled: how long until the next try is taken


def authenticate(username: str, password: str, address: str, known_device: bool = False) -> LoginResult:
    """Check a login, slowed down per (account, address) and per address; every checked attempt is
    recorded. A refused-while-waiting attempt is not checked, so it neither counts nor leaks.
    ``known_device``: the browser logged in as this account before (see ``devices``)."""
    username = (username or "").strip()[:64].lower()  # one throttle count whatever the case typed
    address = (address or "")[:64]
    user = db.session.scalar(select(User).where(same_username(username)))
    wait = throttle_wait(username, address, user, known_device=known_device)
    if wait:
        return LoginResult(error="throttled", wait=wait)
    # Hash even for an unknown username so timing does not tell which names exist.
    stored = user.password_hash if user else _dummy_hash()
    # A deactivated account fails like a wrong password: saying "deactivated" only after the right
    # password would confirm the password to whoever guessed it.
    ok = check_password_hash(stored, password or "") and user is not None and user.active
    db.session.add(LoginAttempt(username=username, address=address, succeeded=ok, at=utcnow()))
    if not ok:
        return LoginResult(error="bad_credentials")
    user.last_login_at = utcnow()
    return LoginResult(user=user)


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(8), method=method)
    return _DUMMY_HASHES[method]


def throttle_wait(username: str, address: str, user: User | None = None,
                  known_device: bool = False) -> timedelta | None:
    """How long a login of ``username`` from ``address`` must still wait, or None.

    Failures are counted per (account, address) since that pair's last success, and per address;
    past a free allowance each further failure doubles the wait after it (up to a cap). An
    account is never locked as a whole: its owner, from an address that has not been guessing,
    always gets through, so nobody can keep the office out by failing on purpose. Failures
    before an office unlock of the account do not count for it. A ``known_device`` is spared the
    per-address count (what others failed behind the same NAT)."""
    config = current_app.config
    now = utcnow()
    since = now - config["LOGIN_THROTTLE_WINDOW"]
    if user is not None and user.login_throttle_reset_at is not None:
        since = max(since, user.login_throttle_reset_at)
    last_pair_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.address == address, LoginAttempt.succeeded.is_(True),
            LoginAttempt.at >= since,
        )
    )
    failures = select(func.count(), func.max(LoginAttempt.at)).where(
        LoginAttempt.address == address, LoginAttempt.succeeded.is_(False)
    )
    pair = db.session.execute(
        failures.where(LoginAttempt.username == username, LoginAttempt.at >= (last_pair_success or since))
    ).one()
    waits = [_wait_after(*pair, config["LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS"], now)]
    if not known_device:
        by_address = db.session.execute(failures.where(LoginAttempt.at >= since)).one()
        waits.append(_wait_after(*by_address, config["LOGIN_FREE_FAILURES_PER_ADDRESS"], now))
    longest = max(waits)
    return longest if longest > timedelta(0) else None


def _wait_after(count, last_failure, free: int, now) -> timedelta:
    if count < free or last_failure is None:
        return timedelta(0)
    config = current_app.config
    delay = min(config["LOGIN_DELAY_BASE"] * 2 ** min(count - free, 20), config["LOGIN_DELAY_MAX"])
    return max(last_failure + delay - now, timedelta(0))


def recent_login_failures(user: User) -> int:
    """Failed logins to the account in the throttle window since its last office unlock, for the office."""
    since = utcnow() - current_app.config["LOGIN_THROTTLE_WINDOW"]
    if user.login_throttle_reset_at is not None:
        since = max(since, user.login_throttle_reset_at)
    return db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.username == user.username.lower(), LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since
        )
    )


def unlock_login(user: User, *, actor) -> User:
    """The office lifts the login slow-down of an account (e.g. colleagues behind one address
    mistyped): failures so far no longer count for it, from any address. ``actor`` None is the CLI."""
    if actor is not None and not permissions.can_manage_user(actor, user):
        raise AccountError("not_allowed")
    before = snapshot(user, ("login_throttle_reset_at",))
    user.login_throttle_reset_at = utcnow()
    db.session.flush()
    record("user.unlock_login", "user", user.id, before=before, after=snapshot(user, ("login_throttle_reset_at",)),
           actor=actor)
    return user


def load_user_from_session_id(token: str):
    """Flask-Login loader: the user of a login session that has neither ended nor expired."""
    if not token or len(token) > 64:
        return None
    user = db.session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.token == token,
            LoginSession.ended_at.is_(None),
            LoginSession.expires_at > utcnow(),
            User.active.is_(True),
        )
    )
    if user is not None:
        user.login_token = token
    return user


def find_unit_by_code(code: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.code == (code or "").strip()))


# --- User management -------------------------------------------------------------------------

USERS_PER_PAGE = 50
UNIT_CHOICE_LIMIT = 2000


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def users_visible_to(actor, search: str = "", role: str | None = None):
    """A SELECT of the users in the actor's unit subtree, their unit loaded by the same join."""
    statement = (
        select(User)
        .join(User.unit)
        .options(contains_eager(User.unit))
        .where(permissions.units_within(actor))
    )
    search = (search or "").strip()
    if search:
        pattern = _like_pattern(search)
        statement = statement.where(
            or_(User.username.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\"))
        )
    if role:
        statement = statement.where(User.role == role)
    return statement.order_by(User.username)


def find_user_in_scope(actor, user_id: int) -> User | None:
    """The user with that id if they sit in the actor's subtree, else None (the view answers 404)."""
    return db.session.scalar(
        users_visible_to(actor).where(User.id == user_id).order_by(None)
    )


def unit_choices(actor, limit: int = UNIT_CHOICE_LIMIT) -> list[Unit] | None:
    """The units in the actor's subtree in tree order, or None when there are more than ``limit``."""
    units = db.session.scalars(select(Unit).where(permissions.units_within(actor)).limit(limit + 1)).all()
    if len(units) > limit:
        return None
    return sorted(units, key=lambda unit: [int(part) for part in unit.path.strip("/").split("/") if part])


def find_unit_in_scope(actor, unit_id) -> Unit | None:
    unit = db.session.get(Unit, unit_id)
    return unit if actor is None or permissions.unit_is_within(actor, unit) else None


def reset_password(user: User, new_password: str, *, actor) -> User:
    """Set another user's password (they forgot it, or it leaked): every session and API token of
    theirs ends, so whoever held the old credentials is out."""
    if not permissions.can_manage_user(actor, user):
        raise AccountError("not_allowed")
    set_password(user, new_password, actor=actor)
    revoke_all_tokens(user, actor, reason="password_reset")
    db.session.flush()
    return user
