"""Browsing, searching, adding and editing units, each role within its own area."""
import pytest
from sqlalchemy import select

from campaign.audit.models import AuditRecord
from campaign.extensions import db as _db
from campaign.units.models import Unit
from tests import factories
from tests.conftest import ROLE_HOMES, queries_for_page

MANAGERS = {"admin", "county_officer"}


def unit_fields(**overrides):
    fields = {"name": "新村委会", "kind": "village", "code": "", "parent_id": "", "category": "",
              "contact_name": "", "phone": "", "households": "", "students": "", "latitude": "", "longitude": ""}
    fields.update(overrides)
    return fields


# --- Permission matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ROLE_HOMES))
def test_every_role_sees_its_own_unit(login, role, tree):
    client = login(role)
    home = getattr(tree, ROLE_HOMES[role])

    assert home.name in client.get("/units/").get_data(as_text=True)
    assert client.get(f"/units/{home.id}").status_code == 200
    assert client.get("/units/?q=村").status_code == 200


@pytest.mark.parametrize("role", sorted(ROLE_HOMES))
def test_only_the_office_may_manage_units(login, role, tree):
    client = login(role)
    home = getattr(tree, ROLE_HOMES[role])
    expected = 200 if role in MANAGERS else 403

    assert client.get(f"/units/new?parent={home.id}").status_code == expected
    assert client.get(f"/units/{home.id}/edit").status_code == expected
    assert client.get("/units/import").status_code == expected
    if role not in MANAGERS:
        fields = unit_fields(parent_id=home.id)
        assert client.post_form(f"/units/new?parent={home.id}", fields).status_code == 403
        assert client.post_form(f"/units/{home.id}/edit", unit_fields(name="改名")).status_code == 403
        assert client.post_form("/units/import", {}).status_code == 403
        assert _db.session.scalar(select(Unit).where(Unit.name.in_(["新村委会", "改名"]))) is None


def test_pages_need_a_login(client, tree):
    for url in ("/units/", f"/units/{tree.county.id}", "/units/new", f"/units/{tree.county.id}/edit", "/units/import"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", ["/units/{id}", "/units/{id}/edit", "/units/new?parent={id}"])
def test_a_township_officer_gets_404_for_another_township(login, tree, users, url):
    users.township_officer.role = "county_officer"  # even with office rights the area decides
    _db.session.commit()
    client = login("township_officer")

    assert client.get(url.format(id=tree.township_b.id)).status_code == 404
    assert client.get(url.format(id=tree.village_b1.id)).status_code == 404
    assert client.get(url.format(id=tree.county.id)).status_code == 404


def test_a_township_officer_cannot_open_another_townships_unit(as_township_officer, tree):
    assert as_township_officer.get(f"/units/{tree.township_b.id}").status_code == 404
    assert as_township_officer.get(f"/units/{tree.kindergarten_b.id}").status_code == 404
    assert as_township_officer.get(f"/units/{tree.village_a1.id}").status_code == 200


def test_a_village_reporter_cannot_open_the_neighbouring_village(as_village_reporter, tree):
    assert as_village_reporter.get(f"/units/{tree.village_a2.id}").status_code == 404


def test_editing_a_unit_of_another_county_is_404_even_for_the_admin(as_admin, tree, db):
    other = factories.make_unit("county", None, "余杭区", "330110000000")
    db.session.commit()

    assert as_admin.get(f"/units/{other.id}/edit").status_code == 404
    assert as_admin.post_form(f"/units/{other.id}/edit", unit_fields(name="改名", kind="county")).status_code == 404
    assert db.session.get(Unit, other.id).name == "余杭区"


# --- The unit page ----------------------------------------------------------------------------------


def test_the_unit_page_shows_breadcrumbs_fields_and_children(as_township_officer, tree):
    page = as_township_officer.get(f"/units/{tree.village_a1.id}").get_data(as_text=True)

    breadcrumbs = page.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert f'href="/units/{tree.township_a.id}">玲珑街道</a>' in breadcrumbs
    assert "临安区" not in breadcrumbs  # above the officer's area
    assert "夏禹桥村委会" in breadcrumbs
    assert "330112002235" in page and "420" in page


def test_the_county_sees_the_whole_line_in_the_breadcrumbs(as_county_officer, tree):
    page = as_county_officer.get(f"/units/{tree.village_a1.id}").get_data(as_text=True)

    breadcrumbs = page.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert breadcrumbs.index("临安区") < breadcrumbs.index("玲珑街道") < breadcrumbs.index("夏禹桥村委会")


def test_children_are_listed_with_kind_head_count_and_their_own_children(as_county_officer, tree):
    page = as_county_officer.get(f"/units/{tree.township_a.id}").get_data(as_text=True)

    for child in (tree.village_a1, tree.village_a2, tree.community_a, tree.school_a):
        assert f'href="/units/{child.id}"' in page
    assert "行政村" in page and "学校" in page and "900" in page and "1800" in page
    county_page = as_county_officer.get("/units/").get_data(as_text=True)
    township_row = county_page.split(f'href="/units/{tree.township_a.id}"')[1].split("</tr>")[0]
    assert '<td class="num">4</td>' in township_row




def test_the_unit_page_costs_the_same_queries_for_5_or_50_children(app, as_county_officer, tree, db):
    few = queries_for_page(as_county_officer, f"/units/{tree.township_b.id}")
    for number in range(48):
        village = factories.make_unit("village", tree.township_b, f"新村{number}")
        factories.make_unit("school", village, f"村小{number}")
    db.session.commit()

    many = queries_for_page(as_county_officer, f"/units/{tree.township_b.id}")

    assert many == few


# --- Search -------------------------------------------------------------------------------------


def test_search_finds_by_name_only_within_the_users_area(as_township_officer, tree):
    page = as_township_officer.get("/units/?q=村委会").get_data(as_text=True)

    assert "夏禹桥村委会" in page and "前山村委会" in page
    assert "白沙村委会" not in page


def test_search_finds_by_code_prefix(as_county_officer, tree):
    page = as_county_officer.get("/units/?q=330112101").get_data(as_text=True)

    assert "白沙村委会" in page and "太湖源镇" in page and "夏禹桥村委会" not in page


def test_search_treats_wildcards_as_text(as_county_officer, tree):
    page = as_county_officer.get("/units/?q=%25").get_data(as_text=True)

    assert "白沙村委会" not in page


def test_search_pages_by_50(as_county_officer, tree, db):
    for number in range(60):
        factories.make_unit("village", tree.township_b, f"测试村{number:02d}")
    db.session.commit()

    first = as_county_officer.get("/units/?q=测试村").get_data(as_text=True)
    second = as_county_officer.get("/units/?q=测试村&page=2").get_data(as_text=True)

    assert first.count("测试村") - second.count("测试村") > 0
    assert sum(f">测试村{n:02d}<" in first for n in range(60)) == 50
    assert sum(f">测试村{n:02d}<" in second for n in range(60)) == 10


# --- Adding and editing -----------------------------------------------------------------------------


def test_the_office_adds_a_unit_under_a_township(as_county_officer, tree, db):
    form = as_county_officer.get(f"/units/new?parent={tree.township_a.id}").get_data(as_text=True)
    assert "行政村" in form and "乡镇（街道）" in form

    response = as_county_officer.post_form(
        f"/units/new?parent={tree.township_a.id}",
        unit_fields(code="330112002299", parent_id=tree.township_a.id, households="120", contact_name="张三"),
    )

    assert response.status_code == 302
    unit = db.session.scalar(select(Unit).where(Unit.code == "330112002299"))
    assert unit.parent_id == tree.township_a.id and unit.households == 120
    assert unit.path == f"{tree.township_a.path}{unit.id}/" and unit.depth == 2
    assert db.session.scalar(select(AuditRecord).where(AuditRecord.action == "unit.create")).entity_id == str(unit.id)


def test_a_taken_code_gets_a_clear_message_and_keeps_the_typed_input(as_county_officer, tree, db):
    response = as_county_officer.post_form(
        f"/units/new?parent={tree.township_a.id}",
        unit_fields(name="重复代码村", code="330112002235", parent_id=tree.township_a.id, phone="13912345678"),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "代码 330112002235 已属于 夏禹桥村委会" in page
    assert 'value="重复代码村"' in page and 'value="13912345678"' in page
    assert db.session.scalar(select(Unit).where(Unit.name == "重复代码村")) is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": "12345"}, "区划代码为 12 位数字"),
        ({"name": ""}, 'class="error"'),
        ({"households": "-1"}, 'class="error"'),
        ({"households": "很多"}, 'class="error"'),
        ({"latitude": "95"}, 'class="error"'),
        ({"name": "夏禹桥村委会"}, "该上级单位下已有名为 夏禹桥村委会 的单位"),
    ],
)
def test_bad_input_is_refused_with_a_message(as_county_officer, tree, db, overrides, message):
    before = db.session.query(Unit).count()

    response = as_county_officer.post_form(
        f"/units/new?parent={tree.township_a.id}", unit_fields(parent_id=tree.township_a.id, **overrides)
    )

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.query(Unit).count() == before


def test_a_parent_outside_the_area_cannot_be_chosen(login, tree, users, db):
    users.township_officer.role = "county_officer"
    db.session.commit()
    client = login("township_officer")

    response = client.post_form(f"/units/new?parent={tree.township_a.id}",
                                unit_fields(parent_id=tree.township_b.id))

    assert response.status_code == 200
    assert db.session.scalar(select(Unit).where(Unit.name == "新村委会")) is None


def test_editing_moves_a_unit_and_its_subtree(as_county_officer, tree, db):
    response = as_county_officer.post_form(
        f"/units/{tree.township_a.id}/edit",
        unit_fields(name="玲珑街道", kind="township", code="330112002000", parent_id=tree.township_b.id),
    )

    assert response.status_code == 302
    township_a = db.session.get(Unit, tree.township_a.id)
    assert township_a.path == f"{tree.township_b.path}{tree.township_a.id}/" and township_a.depth == 2
    village = db.session.get(Unit, tree.village_a1.id)
    assert village.path == f"{township_a.path}{village.id}/" and village.depth == 3
    entry = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "unit.update"))
    assert entry.before == {"parent_id": tree.county.id} and entry.after == {"parent_id": tree.township_b.id}


def test_a_unit_cannot_be_moved_under_itself_or_its_descendants(as_county_officer, tree, db):
    form = as_county_officer.get(f"/units/{tree.township_a.id}/edit").get_data(as_text=True)
    assert f'<option value="{tree.township_b.id}"' in form
    assert f'<option value="{tree.township_a.id}"' not in form

    response = as_county_officer.post_form(
        f"/units/{tree.township_a.id}/edit",
        unit_fields(name="玲珑街道", kind="township", parent_id=tree.township_a.id),
    )

    assert response.status_code == 200
    assert db.session.get(Unit, tree.township_a.id).parent_id == tree.county.id


def test_the_service_refuses_a_move_under_a_descendant(users, tree, db):
    from campaign.units.services import UnitError, update_unit

    with pytest.raises(UnitError) as refused:
        update_unit(tree.township_a, actor=users.county_officer, parent=tree.village_a1,
                    name="玲珑街道", kind="township")
    assert refused.value.code == "parent_inside_unit"


def test_the_top_of_the_area_can_be_edited_but_stays_in_place(as_county_officer, tree, db):
    response = as_county_officer.post_form(
        f"/units/{tree.county.id}/edit",
        unit_fields(name="临安区", kind="county", code="330112000000", parent_id=0, phone="0571-63722222"),
    )

    assert response.status_code == 302
    county = db.session.get(Unit, tree.county.id)
    assert county.phone == "0571-63722222" and county.parent_id is None


def test_editing_keeps_codes_unique(as_county_officer, tree, db):
    response = as_county_officer.post_form(
        f"/units/{tree.village_a2.id}/edit",
        unit_fields(name="前山村委会", code="330112002235", parent_id=tree.township_a.id),
    )

    assert "已属于" in response.get_data(as_text=True)
    assert db.session.get(Unit, tree.village_a2.id).code == "330112002236"


# --- Languages ------------------------------------------------------------------------------------


def test_pages_are_chinese_by_default(as_county_officer, tree):
    page = as_county_officer.get(f"/units/{tree.township_a.id}").get_data(as_text=True)

    assert "区划代码" in page and "联系人" in page and "下级单位" in page
    assert "导入单位" in as_county_officer.get("/units/import").get_data(as_text=True)
    assert "新增单位" in as_county_officer.get("/units/new").get_data(as_text=True)


def test_pages_read_in_english_when_chosen(as_county_officer, tree):
    as_county_officer.post_form("/language", {"locale": "en", "next": "/units/"})

    page = as_county_officer.get(f"/units/{tree.township_a.id}").get_data(as_text=True)

    assert "Division code" in page and "Administrative village" in page
    assert "Import units" in as_county_officer.get("/units/import").get_data(as_text=True)


# --- Categories in words -------------------------------------------------------------------------


def test_a_units_category_reads_in_words(as_county_officer, tree):
    school = factories.make_unit("school", tree.township_a, "玲珑中心小学", category="primary")
    _db.session.commit()
    assert "小学" in as_county_officer.get(f"/units/{school.id}").get_data(as_text=True)
    children = as_county_officer.get(f"/units/{tree.county.id}").get_data(as_text=True)
    assert "通信运营商" in children and "气象部门" in children
    assert ">carrier<" not in children and ">weather<" not in children
    found = as_county_officer.get("/units/?q=临安分公司").get_data(as_text=True)
    assert "通信运营商" in found and ">carrier<" not in found


def test_the_category_is_chosen_from_the_list(as_county_officer, tree):
    page = as_county_officer.get(f"/units/new?parent={tree.county.id}").get_data(as_text=True)
    assert '<option value="police">公安派出所</option>' in page
    response = as_county_officer.post_form(f"/units/new?parent={tree.county.id}", unit_fields(
        name="区公安分局玲珑派出所", kind="agency", parent_id=str(tree.county.id), category="police"))
    assert response.status_code == 302
    assert _db.session.scalar(select(Unit).where(Unit.name == "区公安分局玲珑派出所")).category == "police"


def test_a_category_outside_the_list_is_refused(as_county_officer, tree):
    response = as_county_officer.post_form(f"/units/new?parent={tree.county.id}", unit_fields(
        name="某单位", kind="agency", parent_id=str(tree.county.id), category="<b>cops</b>"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "请从列表中选择类别" in page and "<b>cops</b>" not in page
    assert _db.session.scalar(select(Unit).where(Unit.name == "某单位")) is None


def test_an_imported_category_outside_the_list_survives_an_edit(as_county_officer, tree):
    unit = factories.make_unit("agency", tree.county, "区供电公司", category="power")
    _db.session.commit()
    response = as_county_officer.post_form(f"/units/{unit.id}/edit", unit_fields(
        name="区供电公司", kind="agency", parent_id=str(tree.county.id), category="power", phone="0571-1"))
    assert response.status_code == 302
    _db.session.expire_all()
    assert (_db.session.get(Unit, unit.id).category, _db.session.get(Unit, unit.id).phone) == ("power", "0571-1")
