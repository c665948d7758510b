"""Device cookies (OWASP "Slow down online guessing attacks with device cookies"): a browser where an
account logged in before carries a signed note of it, and a login of that account from that browser
is not slowed down for what *other* accounts failed from the same address — a township's shared
network, a carrier NAT. The (account, address) slow-down still applies, and the cookie proves nothing
else: the password is checked as always."""
from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "cd_device"
MAX_ACCOUNTS = 5  # a shared office computer may remember a few accounts
SALT = "campaign-desk.login-device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _max_age_seconds() -> int:
    return int(current_app.config["LOGIN_DEVICE_COOKIE_MAX_AGE"].total_seconds())


def trusted_usernames() -> list[str]:
    """The accounts this browser logged in with before (a forged or expired cookie: none)."""
    value = request.cookies.get(COOKIE_NAME)
    if not value or len(value) > 2000:
        return []
    try:
        names = _serializer().loads(value, max_age=_max_age_seconds())
    except BadSignature:
        return []
    return [name for name in names if isinstance(name, str)][:MAX_ACCOUNTS] if isinstance(names, list) else []


def remember(response, username: str):
    """Note on the response that this browser logged in as ``username``."""
    names = [username, *(name for name in trusted_usernames() if name != username)][:MAX_ACCOUNTS]
    response.set_cookie(
        COOKIE_NAME, _serializer().dumps(names), max_age=_max_age_seconds(), httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Lax",
    )
    return response
