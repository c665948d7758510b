"""Every water point has a code of its own: new points get one, and the migration gave one to each
point that existed before codes did."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from campaign.water.models import CODE_ALPHABET, WaterPoint
from tests.water.conftest import make_point


def test_a_new_point_gets_a_code_nobody_misreads_and_no_spreadsheet_takes_for_a_number(tree, db):
    codes = {make_point(tree.village_a1, f"塘{n}").code for n in range(50)}

    assert len(codes) == 50
    assert all(code[0] == "W" and len(code) == 9 and set(code[1:]) <= set(CODE_ALPHABET) for code in codes)


def test_the_migration_gives_every_existing_point_its_own_code_and_takes_it_back_down(tree, db):
    for n in range(30):
        make_point(tree.village_a1, f"塘{n}")
    db.session.commit()
    db.session.remove()

    downgrade(revision="0007_water_point_codes-1")
    with db.engine.connect() as connection:
        columns = list(connection.execute(text("SELECT * FROM water_point LIMIT 1")).keys())
    assert "code" not in columns
    upgrade()

    codes = [point.code for point in db.session.query(WaterPoint)]
    assert len(codes) == 30 and len(set(codes)) == 30 and all(codes)
