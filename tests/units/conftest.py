"""Helpers for the unit tests: spreadsheets written the way the county office writes them."""
import io

import pandas as pd
import pytest
from sqlalchemy import func, select

from campaign.extensions import db
from campaign.units import importing, services
from campaign.units.models import Unit

HEADER = "code,name,kind,parent_code"


def csv_bytes(*lines, header=HEADER, encoding="utf-8") -> bytes:
    return "\n".join([header, *lines, ""]).encode(encoding)


def xlsx_bytes(records: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(records).to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def unit_count() -> int:
    return db.session.scalar(select(func.count(Unit.id)))


def unit_by_code(code) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def unit_by_name(name) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.name == name))


def reasons(result) -> list[tuple[int, str]]:
    return [(error.line, error.code) for error in result.errors]


@pytest.fixture
def run_import(db):
    """run_import(data, filename="units.csv", actor=None) → the result, committed when it succeeded."""

    def run(data, filename="units.csv", actor=None):
        result = importing.import_units(data, filename, actor=actor)
        if result.ok:
            db.session.commit()
        else:
            db.session.rollback()
        return result

    return run
