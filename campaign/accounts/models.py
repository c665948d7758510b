"""Users, their roles and the record of login attempts used for throttling."""
import enum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..database import UTCDateTime, utcnow
from ..extensions import db


class Role(str, enum.Enum):
    ADMIN = "admin"
    COUNTY_OFFICER = "county_officer"
    TOWNSHIP_OFFICER = "township_officer"
    VILLAGE_REPORTER = "village_reporter"
    SCHOOL_REPORTER = "school_reporter"
    AGENCY_REPORTER = "agency_reporter"
    INSPECTOR = "inspector"
    VIEWER = "viewer"

    @classmethod
    def values(cls) -> list[str]:
        return [role.value for role in cls]


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # Set by an office unlock: login failures before it no longer slow this account down.
    login_throttle_reset_at: Mapped[object | None] = mapped_column(UTCDateTime)

    unit = relationship("Unit", lazy="joined")

    @validates("role")
    def _check_role(self, key, value):
        if value not in Role.values():
            raise ValueError(f"unknown role {value!r}")
        return value

    @validates("username")
    def _check_username(self, key, value):
        value = (value or "").strip()
        if not value:
            raise ValueError("a user needs a username")
        return value

    @property
    def is_active(self):
        return self.active

    # The token of the login session this object was loaded for (set by the session loader).
    login_token = None

    def get_id(self):
        """Flask-Login keeps this in the cookie: the server-side session's token, not the user id,
        so that logging out or a password change can end a session for good."""
        return self.login_token

    def __repr__(self):
        return f"<User {self.username} {self.role}>"


# Stored as typed, unique ignoring case: a phone keyboard's "Village" is the user "village".
Index("uq_user_account_lower_username", func.lower(User.username), unique=True)


class LoginAttempt(db.Model):
    """One row per login attempt; recent failures slow down an (account, address) pair and an address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class LoginSession(db.Model):
    """One logged-in browser. The signed cookie names it; ending it here ends it everywhere,
    even for a copy of the cookie."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[object] = mapped_column(UTCDateTime)
    ended_at: Mapped[object | None] = mapped_column(UTCDateTime)

    user = relationship("User")
