"""Campaign Desk (专项行动工作台): seasonal safety campaigns of a county office."""
import os
from pathlib import Path

from flask import Flask, render_template

from .config import load_config
from .database import configure_database
from .extensions import babel, csrf, db, login_manager, migrate
from .inputs import configure_inputs
from .security import configure_security_headers
from .serving import configure_serving

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None) -> Flask:
    """Build the app. ``config`` is a config class, its name, or a dict of overrides."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=os.environ.get("INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
    )
    load_config(app, config)
    configure_inputs(app)
    configure_database(app)
    configure_extensions(app)
    configure_templates(app)
    configure_security_headers(app)
    register_error_handlers(app)
    configure_serving(app)
    register_blueprints(app)
    register_cli(app)
    return app


def configure_extensions(app):
    from .i18n import select_locale

    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    from .accounts.cookies import LoginCookieSessionInterface

    app.session_interface = LoginCookieSessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"  # "strong" would log phones out whenever their mobile IP changes
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to see this page.")
    login_manager.login_message_category = "info"

    from .accounts.services import load_user_from_session_id

    login_manager.user_loader(load_user_from_session_id)


def configure_templates(app):
    from flask_babel import get_locale

    from . import permissions
    from .i18n import template_labels
    from .timeutil import format_local

    app.jinja_env.filters["local_time"] = format_local
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject_helpers():
        return {
            "has_permission": permissions.has_permission,
            "current_locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
            **template_labels(),
        }


def register_error_handlers(app):
    from flask_wtf.csrf import CSRFError

    from .api.errors import http_error_response, is_api_request
    from .fieldforms.answers import refused_json, status_message, wants_json

    def render_error(status, template="errors/error.html", **context):
        if wants_json():  # a field form sent by script or the offline outbox
            return refused_json(status, status_message(status, app.config.get("MAX_UPLOAD_MB")))
        return render_template(template, status=status, **context), status

    def page_or_api_error(error):
        """A URL that matches no view: JSON under /api/v1/ (a program is asking), a page elsewhere."""
        if is_api_request():
            return http_error_response(error)
        return render_error(error.code)

    app.register_error_handler(403, lambda error: render_error(403))
    app.register_error_handler(404, page_or_api_error)
    app.register_error_handler(405, page_or_api_error)
    app.register_error_handler(CSRFError, lambda error: render_error(400, csrf_failed=True))

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return render_error(500)

    register_refused_writes(app, render_error)
    register_database_unavailable(app)


def register_refused_writes(app, render_error):
    """Two writes that cannot succeed, whichever view made them. A row changed by someone else
    between our read and our write (``StaleDataError`` from a version column) is the same 409 as a
    version check; a value the database cannot hold (out of range, too long) that slipped past a form
    is a 400 that says so, logged because a form should have caught it."""
    from flask_babel import gettext
    from sqlalchemy.exc import DataError
    from sqlalchemy.orm.exc import StaleDataError

    from .api.errors import error_response, is_api_request

    def refused(status, code, message):
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the session is removed at teardown
            pass
        if is_api_request():
            return error_response(status, code, message)
        return render_error(status, message=message)

    @app.errorhandler(StaleDataError)
    def changed_meanwhile(error):
        return refused(409, "changed_meanwhile", gettext(
            "Someone else saved this record at the same moment. Nothing of yours was saved: reload the page, "
            "check what they changed and apply your changes again."))

    def out_of_range(error):
        app.logger.error("a value the database cannot hold reached it: %s", error)
        return refused(400, "value_out_of_range", gettext(
            "A number or text in the form is too large to be saved. Nothing was saved: correct it and try again."))

    app.register_error_handler(DataError, out_of_range)
    app.register_error_handler(OverflowError, out_of_range)


RETRY_AFTER_SECONDS = 10


def register_database_unavailable(app):
    """The database briefly unreachable (restarting, network, pool exhausted, SQLite busy beyond
    its timeout): a "try again" page with 503 and Retry-After, never a stack trace. The page
    touches no database (no current_user), since the database is what failed."""
    from flask import g
    from flask_babel import gettext
    from sqlalchemy.exc import InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from .api.errors import error_response, is_api_request

    def database_unavailable(error):
        app.logger.error("database unavailable: %s", error, exc_info=error)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone; the session is removed at teardown
            pass
        # Even a user already loaded: their attributes expired with the rollback, and any template or
        # blueprint context processor reading them would go back to the database and fail again.
        g._login_user = login_manager.anonymous_user()
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if is_api_request():
            return error_response(503, "unavailable", gettext(
                "The service is briefly unavailable; nothing was saved. Try again in a moment."), headers=headers)
        return render_template("errors/unavailable.html", retry_after=RETRY_AFTER_SECONDS), 503, headers

    for exception in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(exception, database_unavailable)


def register_blueprints(app):
    from .accounts.views import bp as accounts_bp
    from .api.pages import bp as api_tokens_bp
    from .api.views import bp as api_bp
    from .audit.views import bp as audit_bp
    from .campaigns.views import bp as campaigns_bp
    from .evidence.views import bp as evidence_bp
    from .main.views import bp as main_bp
    from .offline.views import bp as offline_bp
    from .progress.views import bp as progress_bp
    from .reporting.views import bp as reporting_bp
    from .summary.views import bp as summary_bp
    from .units.views import bp as units_bp
    from .water.views import bp as water_bp

    for blueprint in (main_bp, accounts_bp, units_bp, campaigns_bp, reporting_bp, evidence_bp,
                      water_bp, progress_bp, summary_bp, audit_bp, api_bp, api_tokens_bp, offline_bp):
        app.register_blueprint(blueprint)


def register_cli(app):
    from .cli import register_commands

    register_commands(app)
