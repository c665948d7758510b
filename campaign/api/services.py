"""Personal API tokens, stored as a SHA-256 hash only.

A token is ``cd_`` followed by ``secrets.token_urlsafe(32)``; it is shown once, when created.
Requests send it as ``Authorization: Bearer <token>``. The owner creates tokens, in the browser
only (a token cannot mint tokens, so a stolen one cannot outlive its revocation); the owner and the
office (whoever may manage the user) revoke them. A password reset by the office and a
deactivation revoke them all, so a reactivated account starts with none.
"""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from .. import permissions
from ..accounts.models import User
from ..audit.services import record, snapshot
from ..database import utcnow
from ..extensions import db
from .models import ApiToken

TOKEN_PREFIX = "cd_"
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
MAX_TOKEN_LENGTH = 200
MAX_NAME_LENGTH = 100
MAX_ACTIVE_TOKENS = 20
TOUCH_INTERVAL = timedelta(minutes=1)
AUDITED_FIELDS = ("user_id", "name", "prefix", "revoked_at")


class TokenError(ValueError):
    """A refused token operation; ``code`` names the reason for messages and the API."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def tokens_of(user) -> list[ApiToken]:
    """The user's tokens, those still valid first, newest first."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.scalars(query))


def token_of(user, token_id) -> ApiToken | None:
    """One of the user's own tokens; another user's token id gives None (→ 404)."""
    try:
        token_id = int(token_id)
    except (TypeError, ValueError):
        return None
    return db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))


def create_token(user, name) -> tuple[ApiToken, str]:
    """A new token for the user's own use: (the row, the token in clear — to show once). The page and
    the API's /tokens let only roles with ``api.tokens`` make one; a token works whatever the role."""
    if name is not None and not isinstance(name, str):
        raise TokenError("name_required")
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("name_required")
    if len(name) > MAX_NAME_LENGTH:
        raise TokenError("name_too_long", max=MAX_NAME_LENGTH)
    active = db.session.scalar(
        select(func.count()).select_from(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    if active >= MAX_ACTIVE_TOKENS:
        raise TokenError("too_many_tokens", max=MAX_ACTIVE_TOKENS)
    clear = generate_token()
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(clear), prefix=clear[:SHOWN_PREFIX_LENGTH],
                     created_at=utcnow())
    db.session.add(token)
    db.session.flush()
    record("api_token.create", "api_token", token.id, after=snapshot(token, AUDITED_FIELDS), actor=user)
    return token, clear


def can_revoke(actor, owner) -> bool:
    """The owner, or whoever may manage the owner's account (the office, within its area)."""
    return owner.id == actor.id or permissions.can_manage_user(actor, owner)


def revoke_token(token: ApiToken, actor, now: datetime | None = None, reason: str = "") -> ApiToken:
    """Revoke a token of the actor's or of a user the actor manages; revoking twice changes nothing.
    ``actor`` None is the command line."""
    if actor is not None and not can_revoke(actor, token.user):
        raise TokenError("not_allowed")
    if token.revoked_at is not None:
        return token
    before = snapshot(token, AUDITED_FIELDS)
    token.revoked_at = now or utcnow()
    db.session.flush()
    after = snapshot(token, AUDITED_FIELDS)
    if reason:
        after["reason"] = reason
    record("api_token.revoke", "api_token", token.id, before=before, after=after, actor=actor)
    return token


def revoke_all_tokens(owner, actor, reason: str) -> int:
    """Revoke every valid token of ``owner``, each audited with ``reason``; how many were revoked."""
    valid = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == owner.id, ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)
    ).all()
    now = utcnow()
    for token in valid:
        revoke_token(token, actor, now=now, reason=reason)
    return len(valid)


def authenticate(raw_token) -> tuple[ApiToken, User] | None:
    """The valid token and its active user, or None: unknown, revoked, or the user deactivated."""
    if not isinstance(raw_token, str) or not raw_token.startswith(TOKEN_PREFIX) or len(raw_token) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(raw_token), ApiToken.revoked_at.is_(None),
               User.active.is_(True))
    ).first()
    return tuple(row) if row else None


def needs_touch(token: ApiToken, now: datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL


def touch(token_id: int, now: datetime) -> bool:
    """Record the use, at most once a minute: a conditional UPDATE, so concurrent requests
    write it once. Not audited (like a login time, it is bookkeeping)."""
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id,
               or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_INTERVAL))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)
