"""Whatever a spreadsheet holds, the unit import answers with a result or row-numbered errors, never a crash."""
import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign.units.importing import import_units

KINDS = ["county", "township", "village", "community", "school", "agency", "县", "村", "", "planet"]
cells = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "=1+1", "\u202e", "../../etc", "NaN", "1e309", "０１２３"]),
)
rows = st.lists(
    st.fixed_dictionaries({
        "code": st.one_of(st.from_regex(r"\A33011200\d{4}\Z"), cells),
        "name": cells,
        "kind": st.sampled_from(KINDS),
        "parent_code": st.one_of(st.just("330112000000"), st.from_regex(r"\A33011200\d{4}\Z"), cells),
        "households": cells,
        "latitude": cells,
    }),
    max_size=12,
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def as_csv(records, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["code", "name", "kind", "parent_code", "households", "latitude"])
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue().encode(encoding, errors="replace")


@SETTINGS
@given(records=rows)
def test_random_rows_give_a_result_or_errors_with_line_numbers(db, tree, records):
    try:
        result = import_units(as_csv(records), "units.csv")
        if result.errors:
            assert result.created == result.updated == 0
            assert all(2 <= error.line <= len(records) + 1 or error.line == 1 for error in result.errors)
    finally:
        db.session.rollback()


@SETTINGS
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_the_import(db, data):
    try:
        result = import_units(data, "random.csv")
        assert result.ok or result.errors
    finally:
        db.session.rollback()


@SETTINGS
@given(data=st.binary(max_size=400))
def test_a_malformed_xlsx_is_refused_cleanly(db, data):
    try:
        result = import_units(b"PK\x03\x04" + data, "broken.xlsx")
        assert not result.ok
    finally:
        db.session.rollback()
