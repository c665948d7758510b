"""Bulk creation of users from a CSV file: every row is checked first, then all are created or none."""
import csv
import io
import warnings
from dataclasses import dataclass, field

import pandas as pd
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import permissions
from ..audit.services import record
from ..extensions import db
from ..i18n import ROLE_LABELS
from ..units.models import Unit
from .messages import account_error_message
from .models import Role, User
from .services import AccountError, create_user, generate_password, password_problem, username_taken

COLUMNS = ("username", "display_name", "role", "unit_code", "phone", "password")
REQUIRED_COLUMNS = ("username", "role", "unit_code")
# Offices often keep their own Chinese headers; these are read as the English ones.
HEADER_ALIASES = {
    "用户名": "username",
    "账号": "username",
    "姓名": "display_name",
    "角色": "role",
    "单位代码": "unit_code",
    "区划代码": "unit_code",
    "电话": "phone",
    "手机": "phone",
    "联系电话": "phone",
    "密码": "password",
}
MAX_LENGTHS = {"username": 64, "display_name": 60, "phone": 40, "password": 200}
COLUMN_LABELS = {
    "username": _l("Username"),
    "display_name": _l("Name"),
    "phone": _l("Phone"),
    "password": _l("Password"),
}
FIRST_DATA_LINE = 2  # the header is line 1


@dataclass
class RowProblem:
    line: int
    error: AccountError

    @property
    def message(self) -> str:
        return account_error_message(self.error)


@dataclass
class CreatedUser:
    user: User
    generated_password: str | None  # shown once, never stored in clear


@dataclass
class ImportResult:
    created: list[CreatedUser] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 as saved by Chinese Excel."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def read_rows(data: bytes) -> tuple[pd.DataFrame | None, list[RowProblem]]:
    try:
        text = decode(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,  # keeps row positions equal to file lines
                index_col=False,
            )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error):
        return None, [RowProblem(1, AccountError("unreadable_file"))]
    frame.columns = [_canonical_header(name) for name in frame.columns]
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        return None, [RowProblem(1, AccountError("missing_columns", columns=", ".join(missing)))]
    for name in COLUMNS:
        if name not in frame.columns:
            frame[name] = ""
    frame = frame[list(COLUMNS)].apply(lambda column: column.str.strip())
    frame = frame[(frame != "").any(axis=1)]
    if frame.empty:
        return None, [RowProblem(1, AccountError("no_rows"))]
    return frame, []


def _canonical_header(name) -> str:
    name = str(name).strip()
    return HEADER_ALIASES.get(name, name.lower())


def role_names() -> dict[str, str]:
    """Role key or its label in either language (lower-cased) → role key."""
    names = {role: role for role in Role.values()}
    for locale in ("zh_Hans_CN", "en"):
        with force_locale(locale):
            names.update({str(label).strip().lower(): role for role, label in ROLE_LABELS.items()})
    return names


def _role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def check_rows(frame: pd.DataFrame, actor) -> tuple[list[dict], list[RowProblem]]:
    """Every problem of every row, with the few queries the whole file needs."""
    roles = role_names()
    codes = {code for code in frame["unit_code"] if code}
    units = {
        unit.code: unit for unit in db.session.scalars(select(Unit).where(Unit.code.in_(codes)))
    } if codes else {}
    usernames = {name.lower() for name in frame["username"] if name}
    taken = {
        name.lower(): name
        for name in db.session.scalars(select(User.username).where(func.lower(User.username).in_(usernames)))
    } if usernames else {}

    rows, problems, first_lines = [], [], {}
    for index, row in frame.to_dict("index").items():
        line = int(index) + FIRST_DATA_LINE
        row_problems = []

        def refuse(code, **details):
            row_problems.append(RowProblem(line, AccountError(code, **details)))

        for name, limit in MAX_LENGTHS.items():
            if len(row[name]) > limit:
                refuse("too_long", field=str(COLUMN_LABELS[name]), max=limit)
        username = row["username"]
        if not username:
            refuse("username_required")
        elif username.lower() in first_lines:
            refuse("duplicate_in_file", username=username, first_line=first_lines[username.lower()])
        else:
            first_lines[username.lower()] = line
            if username.lower() in taken:
                error = username_taken(username, taken[username.lower()])
                refuse(error.code, **error.details)
        role = roles.get(row["role"].lower()) if row["role"] else None
        if not row["role"]:
            refuse("role_required")
        elif role is None:
            refuse("unknown_role", role=row["role"])
        elif actor is not None and role not in permissions.grantable_roles(actor):
            refuse("role_not_grantable", role=_role_label(role))
        unit = units.get(row["unit_code"])
        if not row["unit_code"]:
            refuse("unit_code_required")
        elif unit is None:
            refuse("unknown_unit_code", division_code=row["unit_code"])
        elif actor is not None and not permissions.unit_is_within(actor, unit):
            refuse("unit_out_of_scope")
        elif role is not None and not permissions.role_fits_unit(role, unit):
            refuse("role_does_not_fit_unit", role=_role_label(role))
        if row["password"]:
            problem = password_problem(row["password"])
            if problem:
                refuse(problem)
        problems.extend(row_problems)
        rows.append({**row, "role": role, "unit": unit, "line": line})
    return rows, problems


def import_users(data: bytes, actor=None, source: str = "") -> ImportResult:
    """Create every user of the file, or none: any problem leaves the result with no users created.

    Services flush; the caller commits when ``result.ok`` and rolls back otherwise.
    """
    frame, problems = read_rows(data)
    if problems:
        return ImportResult(problems=problems)
    rows, problems = check_rows(frame, actor)
    if problems:
        return ImportResult(problems=problems)
    result = ImportResult()
    for row in rows:
        generated = None if row["password"] else generate_password()
        try:
            user = create_user(
                username=row["username"],
                password=row["password"] or generated,
                role=row["role"],
                unit=row["unit"],
                display_name=row["display_name"],
                phone=row["phone"],
                actor=actor,
            )
        except AccountError as error:  # a race with another writer since the checks
            return ImportResult(problems=[RowProblem(row["line"], error)])
        result.created.append(CreatedUser(user, generated))
    record("user.import", "user", None, after={"source": source[:200], "count": len(result.created)}, actor=actor)
    db.session.flush()
    return result


def template_csv() -> bytes:
    """An empty file with the expected header, UTF-8 with a BOM so Excel opens it right."""
    return ("\ufeff" + ",".join(COLUMNS) + "\n").encode("utf-8")
