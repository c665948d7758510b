"""The session cookie of a logged-in browser expires with its server-side login session.

Flask gives every permanent session the same PERMANENT_SESSION_LIFETIME from now; a login here lasts
until its own ``LoginSession.expires_at`` (often a campaign's deadline), kept in the signed cookie as
``login_expires`` at login. A visitor who is not logged in keeps a browser-session cookie.
"""
from datetime import datetime, timezone

from flask.sessions import SecureCookieSessionInterface

EXPIRES_KEY = "login_expires"


class LoginCookieSessionInterface(SecureCookieSessionInterface):
    def get_expiration_time(self, app, session):
        expires = session.get(EXPIRES_KEY) if session.permanent else None
        if expires:
            return datetime.fromtimestamp(int(expires), timezone.utc)
        return super().get_expiration_time(app, session)
