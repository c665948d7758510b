"""Configuration classes; environment variables override the class defaults.

The default (development) needs no setup at all: a SQLite file and a secret key kept in
``instance/``. Production refuses to start without a real ``SECRET_KEY``.
"""
import math
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from .private_files import PRIVATE_DIR, make_private, private_dirs

ENV_OVERRIDES = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "UPLOAD_DIR": "UPLOAD_DIR",
    "MAX_UPLOAD_MB": "MAX_UPLOAD_MB",
    "MAX_FILE_MB": "MAX_FILE_MB",
    "MAX_IMAGE_PIXELS": "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_DECODED_MB": "MAX_IMAGE_DECODED_MB",
    "MAP_TILES": "MAP_TILES",
    "TIANDITU_KEY": "TIANDITU_KEY",
    "MAP_TILE_URL": "MAP_TILE_URL",
    "DEFAULT_TIMEZONE": "DEFAULT_TIMEZONE",
    "SESSION_COOKIE_SECURE": "SESSION_COOKIE_SECURE",
    "PROXY_COUNT": "PROXY_COUNT",
    "LOGIN_SESSION_DAYS": "LOGIN_SESSION_DAYS",
    "REMINDER_CHANNEL": "REMINDER_CHANNEL",
    "REMINDER_MAX_ATTEMPTS": "REMINDER_MAX_ATTEMPTS",
    "SMTP_HOST": "SMTP_HOST",
    "SMTP_PORT": "SMTP_PORT",
    "SMTP_USER": "SMTP_USER",
    "SMTP_PASSWORD": "SMTP_PASSWORD",
    "SMTP_STARTTLS": "SMTP_STARTTLS",
    "MAIL_FROM": "MAIL_FROM",
    "SMS_GATEWAY_URL": "SMS_GATEWAY_URL",
    "SMS_GATEWAY_TOKEN": "SMS_GATEWAY_TOKEN",
    "SMS_GATEWAY_TOKEN_HEADER": "SMS_GATEWAY_TOKEN_HEADER",
    "SMS_TEMPLATE": "SMS_TEMPLATE",
    **{name: name for name in ("TABLE_MAX_FILE_MB", "TABLE_MAX_UNPACKED_MB", "TABLE_MAX_RATIO", "TABLE_MAX_ROWS",
                               "TABLE_MAX_COLUMNS", "TABLE_MAX_CELLS", "TABLE_MAX_SECONDS")},
}


class Config:
    SQLALCHEMY_DATABASE_URI = None  # filled with instance/campaign-desk.sqlite3 when unset
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SECRET_KEY = None  # read from instance/secret_key when unset
    UPLOAD_DIR = None  # instance/uploads when unset
    MAX_UPLOAD_MB = 20  # one request
    MAX_FILE_MB = 10  # one file
    # Spreadsheet imports (campaign/tables): refused beyond these, before or while parsing.
    TABLE_MAX_FILE_MB = 10
    TABLE_MAX_UNPACKED_MB = 40  # an XLSX's members, unpacked
    TABLE_MAX_RATIO = 100  # unpacked / packed size of any member over 1 MB
    TABLE_MAX_ROWS = 50_000
    TABLE_MAX_COLUMNS = 100
    TABLE_MAX_CELLS = 1_500_000
    TABLE_MAX_SECONDS = 10
    MAX_IMAGE_PIXELS = 40_000_000  # a photo's width × height; see campaign/evidence/images.py
    MAX_IMAGE_DECODED_MB = 120  # what a PNG or WebP may cost decoded whole
    DEFAULT_TIMEZONE = "Asia/Shanghai"
    SQLITE_BUSY_TIMEOUT_MS = 15000

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}

    HSTS_MAX_AGE = 0  # Strict-Transport-Security off: a development server speaks plain HTTP
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # A login lasts LOGIN_SESSION_DAYS when set; by default until the latest deadline of the active
    # campaigns the user takes part in (at least a day), else LOGIN_SESSION_DEFAULT_DAYS; never more
    # than LOGIN_SESSION_LONGEST_DAYS. The cookie's expiry and the server-side session agree.
    LOGIN_SESSION_DAYS = None
    LOGIN_SESSION_DEFAULT_DAYS = 30
    LOGIN_SESSION_LONGEST_DAYS = 120
    # PERMANENT_SESSION_LIFETIME (the oldest signed cookie accepted) follows LOGIN_SESSION_LONGEST_DAYS.
    # Proxies in front that set X-Forwarded-*: 1 behind the documented nginx, 0 (off) when gunicorn
    # faces the phones itself. Never more than the real number (a client could choose its address).
    PROXY_COUNT = 0
    WTF_CSRF_TIME_LIMIT = None  # a reporter on a slow phone may keep a form open for hours

    PASSWORD_HASH_METHOD = "scrypt"
    PASSWORD_MIN_LENGTH = 8
    # Login slow-down (no lock-out): past the free failures, each failure doubles the wait after it,
    # from LOGIN_DELAY_BASE up to LOGIN_DELAY_MAX; failures older than the window are forgotten.
    LOGIN_THROTTLE_WINDOW = timedelta(hours=1)
    LOGIN_FREE_FAILURES_PER_ACCOUNT_ADDRESS = 5
    LOGIN_FREE_FAILURES_PER_ADDRESS = 30
    LOGIN_DELAY_BASE = timedelta(seconds=30)
    LOGIN_DELAY_MAX = timedelta(minutes=15)
    # A browser where an account logged in is exempt from the per-address slow-down for that account.
    LOGIN_DEVICE_COOKIE_MAX_AGE = timedelta(days=180)

    UNITS_PER_PAGE = 50
    WATER_PATROL_INTERVAL_DAYS = 7

    # Reminders: "outbox" (kept in the table and logged), "email" (SMTP) or "sms" (HTTP gateway).
    REMINDER_CHANNEL = "outbox"
    REMINDER_MAX_ATTEMPTS = 5
    REMINDER_RETRY_MINUTES = 10  # first retry after this, doubling each time
    REMINDER_SEND_TIMEOUT = 15
    SMTP_HOST = "localhost"
    SMTP_PORT = 25
    SMTP_USER = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = False
    MAIL_FROM = "campaign-desk@localhost"
    SMS_GATEWAY_URL = ""
    SMS_GATEWAY_TOKEN = ""
    SMS_GATEWAY_TOKEN_HEADER = "Authorization"
    SMS_TEMPLATE = '{"phone": "{phone}", "text": "{text}"}'


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = True  # tests post real tokens; CSRF is part of what they check
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast in tests; never used outside them
    SECRET_KEY = "testing-secret-key-not-for-production"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    HSTS_MAX_AGE = 31536000  # one year of HTTPS only, sent on every response


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(app, config=None):
    """Fill app.config from a config class (or its name), env vars, then explicit overrides."""
    overrides = {}
    if isinstance(config, dict):
        overrides = config
        config = config.get("ENV_NAME")
    if config is None:
        config = os.environ.get("CAMPAIGN_DESK_ENV", "development")
    config_class = CONFIGS[config] if isinstance(config, str) else config
    app.config.from_object(config_class)
    for env_name, key in ENV_OVERRIDES.items():
        if os.environ.get(env_name):
            app.config[key] = _parse_env_value(os.environ[env_name])
    app.config.update(overrides)
    _fill_instance_defaults(app, production=issubclass(config_class, ProductionConfig))


def _parse_env_value(value):
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered.isdigit():
        return int(lowered)
    return value


def _fill_instance_defaults(app, production):
    instance = Path(app.instance_path)
    if production:
        _refuse_weak_secret_key(app.config.get("SECRET_KEY"))
    if not app.config.get("SECRET_KEY"):
        if production:
            raise RuntimeError(
                "SECRET_KEY is not set. Production refuses to start with a generated key: set the "
                "SECRET_KEY environment variable to a long random value shared by all workers "
                '(python -c "import secrets; print(secrets.token_hex(32))").'
            )
        app.config["SECRET_KEY"] = _instance_secret_key(instance)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        private_dirs(instance)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'campaign-desk.sqlite3'}"
    if not app.config.get("UPLOAD_DIR"):
        app.config["UPLOAD_DIR"] = str(instance / "uploads")
    try:
        private_dirs(app.config["UPLOAD_DIR"])
        make_private(app.config["UPLOAD_DIR"], PRIVATE_DIR)
    except OSError:
        pass  # not ours or not writable: an upload then says so (storage_failed), and so does /readyz
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=int(app.config["LOGIN_SESSION_LONGEST_DAYS"]))


def _instance_secret_key(instance: Path) -> str:
    """The key generated on first start and kept, so sessions survive restarts and workers agree."""
    private_dirs(instance)
    key_file = instance / "secret_key"
    if not key_file.exists():
        # Written aside then linked into place: concurrent workers starting together agree on one key.
        fd, tmp_name = tempfile.mkstemp(dir=instance, prefix=".secret_key.")
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp_name, key_file)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp_name)
    return key_file.read_text().strip()


MIN_SECRET_BITS = 256
CHARACTER_CLASSES = (
    ("0123456789abcdef", 16),
    ("0123456789ABCDEF", 16),
    ("0123456789", 10),
    ("abcdefghijklmnopqrstuvwxyz", 26),
    ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26),
)


def secret_key_bits(key) -> float:
    """A generous upper bound on the entropy of a key: its length times the bits of the smallest
    alphabet it fits (hex, digits, letters, base64, printable), counting a repeated run once."""
    if isinstance(key, bytes):
        return len(key) * 8.0 if len(set(key)) >= 8 else 0.0
    key = str(key or "")
    if len(set(key)) < 8:  # "aaaa…", "abab…": no length makes these secret
        return 0.0
    alphabet = 0
    for characters, size in CHARACTER_CLASSES[2:]:
        if any(char in characters for char in key):
            alphabet += size
    if all(char in CHARACTER_CLASSES[0][0] for char in key) or all(char in CHARACTER_CLASSES[1][0] for char in key):
        alphabet = 16
    elif any(not char.isalnum() for char in key):
        alphabet += 33 if key.isascii() else 1000
    return len(key) * math.log2(max(alphabet, 2))


def _refuse_weak_secret_key(key):
    if key and secret_key_bits(key) < MIN_SECRET_BITS:
        raise RuntimeError(
            "SECRET_KEY is too weak for production: it must hold at least 32 random bytes (256 bits), "
            "e.g. 64 hexadecimal characters. Sessions and CSRF tokens signed with a guessable key can be "
            'forged. Generate one with: python -c "import secrets; print(secrets.token_hex(32))"'
        )
