"""Bulk creation of users from an XLSX or CSV file: every row is checked first, then all are created or none."""
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import permissions
from ..audit.services import record
from ..extensions import db
from ..i18n import ROLE_LABELS
from ..tables import TableRefused, TableSpec, read_table
from ..tables.messages import TABLE_ERRORS
from ..units.models import Unit
from .messages import account_error_message
from .models import Role, User
from .services import AccountError, create_user, generate_password, password_problem, username_taken

COLUMNS = ("username", "display_name", "role", "unit_code", "phone", "password")
REQUIRED_COLUMNS = ("username", "role", "unit_code")
# Offices often keep their own Chinese headers; these are read as the English ones.
SPEC = TableSpec(
    {
        "username": ("用户名", "账号"),
        "display_name": ("姓名",),
        "role": ("角色",),
        "unit_code": ("单位代码", "区划代码"),
        "phone": ("手机", "电话", "联系电话"),
        "password": ("密码",),
    },
    REQUIRED_COLUMNS,
    code_columns=("unit_code", "phone"),
)
MAX_LENGTHS = {"username": 64, "display_name": 60, "phone": 40, "password": 200}
COLUMN_LABELS = {
    "username": _l("Username"),
    "display_name": _l("Name"),
    "phone": _l("Phone"),
    "password": _l("Password"),
}


@dataclass
class RowProblem:
    line: int
    error: AccountError

    @property
    def message(self) -> str:
        if self.error.code in TABLE_ERRORS:
            return str(TABLE_ERRORS[self.error.code]) % self.error.details
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


def read_rows(data: bytes, filename: str = "") -> tuple[list | None, list[RowProblem]]:
    """The rows as (line, {column → text}), every column present, or the problems of the file."""
    try:
        table = read_table(data, filename, SPEC)
    except TableRefused as refused:
        return None, [RowProblem(error.line, AccountError(error.code, **{"value": error.value, **error.details}))
                      for error in refused.errors]
    rows = [(line, {name: values.get(name, "") for name in COLUMNS}) for line, values in table.rows]
    if not rows:
        return None, [RowProblem(table.header_line, AccountError("no_rows"))]
    return rows, []


def role_names() -> dict[str, str]:
    """Role key or its label in either language (lower-cased) → role key."""
    names = {role: role for role in Role.values()}
    for locale in ("zh_Hans_CN", "en"):
        with force_locale(locale):
            names.update({str(label).strip().lower(): role for role, label in ROLE_LABELS.items()})
    return names


def _role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def check_rows(table_rows, actor) -> tuple[list[dict], list[RowProblem]]:
    """Every problem of every row, with the few queries the whole file needs."""
    roles = role_names()
    codes = {row["unit_code"] for _, row in table_rows if row["unit_code"]}
    units = {
        unit.code: unit for unit in db.session.scalars(select(Unit).where(Unit.code.in_(codes)))
    } if codes else {}
    usernames = {row["username"].lower() for _, row in table_rows if row["username"]}
    taken = {
        name.lower(): name
        for name in db.session.scalars(select(User.username).where(func.lower(User.username).in_(usernames)))
    } if usernames else {}

    rows, problems, first_lines = [], [], {}
    for line, row in table_rows:
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
    table_rows, problems = read_rows(data, source)
    if problems:
        return ImportResult(problems=problems)
    rows, problems = check_rows(table_rows, actor)
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
