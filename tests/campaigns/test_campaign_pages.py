"""The campaign pages: who may see and do what, forms that keep what was typed, confirmations."""
from datetime import date

import pytest
from sqlalchemy import func, select

from campaign.campaigns import services
from campaign.campaigns.models import Assignment, Campaign, Task
from campaign.timeutil import to_local
from tests.campaigns.conftest import draft_from_playbook
from tests.conftest import ROLE_HOMES
from tests.factories import make_unit

ROLES = list(ROLE_HOMES)
MANAGERS = {"admin", "county_officer"}

CAMPAIGN_FORM = {
    "title": "2026年森林防火宣传月",
    "theme": "宣传造势防林火、群防群治保平安",
    "description": "每年10月为我区森林防火宣传月。",
    "start_date": "2026-10-01",
    "end_date": "2026-10-31",
    "deadline_date": "2026-11-05",
    "deadline_time": "17:00",
}

TASK_FORM = {
    "title": "悬挂横幅",
    "description": "在村委会门口悬挂横幅。",
    "unit_kinds": ["village", "community"],
    "unit_category": "",
    "measure": "quantity",
    "target": "2",
    "measure_unit": "slogan",
    "requires_photo": "y",
    "due_date": "2026-10-15",
}


def page(response):
    return response.get_data(as_text=True)


def assignment_count(db):
    return db.session.scalar(select(func.count()).select_from(Assignment))


# --- permission matrix ---------------------------------------------------------------------------

def manage_urls(campaign):
    task = campaign.tasks[0]
    base = f"/campaigns/{campaign.id}"
    return [f"{base}/edit", f"{base}/tasks/new", f"{base}/tasks/{task.id}/edit",
            f"{base}/tasks/{task.id}/delete", f"{base}/launch"]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_list_and_the_county_campaign(login, forest_fire, role):
    client = login(role)
    listing = client.get("/campaigns/")
    assert listing.status_code == 200
    assert "2026年森林防火宣传月" in page(listing)
    detail = client.get(f"/campaigns/{forest_fire.id}")
    assert detail.status_code == 200
    assert "设置永久性宣传标牌" in page(detail)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_office_may_open_the_new_campaign_page(login, tree, role):
    response = login(role).get("/campaigns/new")
    assert response.status_code == (200 if role in MANAGERS else 403)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_office_may_open_the_management_pages_of_a_draft(login, forest_fire, role):
    client = login(role)
    for url in manage_urls(forest_fire):
        assert client.get(url).status_code == (200 if role in MANAGERS else 403), url


@pytest.mark.parametrize("role", ROLES)
def test_only_the_office_may_open_the_close_page(login, active_forest_fire, role):
    response = login(role).get(f"/campaigns/{active_forest_fire.id}/close")
    assert response.status_code == (200 if role in MANAGERS else 403)


@pytest.mark.parametrize("role", sorted(set(ROLES) - MANAGERS))
def test_no_other_role_can_post_any_management_form(login, db, forest_fire, role):
    client = login(role)
    task = forest_fire.tasks[0]
    base = f"/campaigns/{forest_fire.id}"
    posts = [
        ("/campaigns/new", {**CAMPAIGN_FORM, "root_unit_id": forest_fire.root_unit_id}),
        (f"{base}/edit", {**CAMPAIGN_FORM, "title": "改过的标题", "root_unit_id": forest_fire.root_unit_id}),
        (f"{base}/tasks/new", TASK_FORM),
        (f"{base}/tasks/{task.id}/edit", TASK_FORM),
        (f"{base}/tasks/{task.id}/delete", {}),
        (f"{base}/launch", {}),
        (f"{base}/close", {}),
    ]
    for url, data in posts:
        assert client.post_form(url, data).status_code == 403, url
    db.session.expire_all()
    campaign = db.session.get(Campaign, forest_fire.id)
    assert (campaign.title, campaign.status, len(campaign.tasks)) == ("2026年森林防火宣传月", "draft", 12)
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 1


def test_anonymous_visitors_are_sent_to_the_login_page(client, forest_fire):
    for url in ["/campaigns/", "/campaigns/new", f"/campaigns/{forest_fire.id}", *manage_urls(forest_fire)]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_a_township_officer_sees_but_cannot_manage_a_campaign_of_its_township(login, db, tree, users):
    campaign = draft_from_playbook(users.county_officer, tree.township_a, title="玲珑街道森林防火宣传月")
    db.session.commit()
    client = login("township_officer")
    assert client.get(f"/campaigns/{campaign.id}").status_code == 200
    assert client.get(f"/campaigns/{campaign.id}/edit").status_code == 403


def test_a_village_of_another_township_does_not_see_a_township_campaign(login, db, tree, users):
    campaign = draft_from_playbook(users.county_officer, tree.township_b, title="太湖源镇森林防火宣传月")
    db.session.commit()
    client = login("village_reporter")  # 夏禹桥村 under 玲珑街道
    assert client.get(f"/campaigns/{campaign.id}").status_code == 404
    assert "太湖源镇森林防火宣传月" not in page(client.get("/campaigns/"))


# --- URL tampering -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_another_countys_campaign_is_not_found_on_any_route(login, other_county, role):
    client = login(role)
    base = f"/campaigns/{other_county.campaign.id}"
    task_id = other_county.task.id
    urls = [base, f"{base}/edit", f"{base}/tasks/new", f"{base}/tasks/{task_id}/edit",
            f"{base}/tasks/{task_id}/delete", f"{base}/launch", f"{base}/close"]
    # Managing is refused outright (403) to roles that never manage; managers get 404 for a campaign
    # outside their area, as if it did not exist.
    refused = 404 if role in {"admin", "county_officer"} else 403
    assert client.get(base).status_code == 404
    for url in urls[1:]:
        assert client.get(url).status_code == refused, url
        assert client.post_form(url, {}).status_code == refused, url
    assert "桐庐县防溺水专项行动" not in page(client.get("/campaigns/"))


def test_a_task_of_another_campaign_is_not_found(as_county_officer, db, forest_fire, other_county, users, tree):
    second = draft_from_playbook(users.county_officer, tree.county, title="另一个活动")
    db.session.commit()
    foreign_task = second.tasks[0].id
    base = f"/campaigns/{forest_fire.id}/tasks/{foreign_task}"
    assert as_county_officer.get(f"{base}/edit").status_code == 404
    assert as_county_officer.post_form(f"{base}/delete", {}).status_code == 404
    assert as_county_officer.get(f"/campaigns/{forest_fire.id}/tasks/{other_county.task.id}/edit").status_code == 404
    assert db.session.get(Task, foreign_task) is not None


# --- creating and editing ------------------------------------------------------------------------

def test_the_new_page_fills_in_from_a_playbook_for_the_chosen_year(as_county_officer, tree):
    html = page(as_county_officer.get("/campaigns/new?playbook=forest-fire-month&year=2027"))
    assert 'value="2027-10-01"' in html and 'value="2027-10-31"' in html
    assert 'value="2027-11-05"' in html and 'value="17:00"' in html
    assert "宣传造势防林火、群防群治保平安" in html
    assert "2027年森林防火宣传月" in html


def test_creating_from_a_playbook_copies_its_tasks(as_county_officer, db, tree):
    response = as_county_officer.post_form(
        "/campaigns/new", {**CAMPAIGN_FORM, "playbook_key": "forest-fire-month", "root_unit_id": tree.county.id})
    assert response.status_code == 302
    campaign = db.session.scalars(select(Campaign)).one()
    assert response.headers["Location"].endswith(f"/campaigns/{campaign.id}")
    assert campaign.status == "draft" and campaign.playbook_key == "forest-fire-month"
    assert len(campaign.tasks) == 12
    assert to_local(campaign.deadline_at).strftime("%Y-%m-%d %H:%M") == "2026-11-05 17:00"
    assert campaign.created_by.username == "county_officer"


def test_a_blank_campaign_has_no_tasks(as_admin, db, tree):
    response = as_admin.post_form("/campaigns/new", {**CAMPAIGN_FORM, "root_unit_id": tree.township_b.id})
    assert response.status_code == 302
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.tasks == [] and campaign.root_unit_id == tree.township_b.id


def test_a_deadline_before_the_end_is_explained_and_nothing_typed_is_lost(as_county_officer, db, tree):
    data = {**CAMPAIGN_FORM, "deadline_date": "2026-10-30", "root_unit_id": tree.county.id}
    response = as_county_officer.post_form("/campaigns/new", data)
    html = page(response)
    assert response.status_code == 200
    assert "汇总截止时间不得早于结束日期" in html
    assert "每年10月为我区森林防火宣传月。" in html and 'value="2026-10-30"' in html
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_start_after_the_end_is_explained(as_county_officer, db, tree):
    data = {**CAMPAIGN_FORM, "start_date": "2026-11-01", "root_unit_id": tree.county.id}
    html = page(as_county_officer.post_form("/campaigns/new", data))
    assert "开始日期不得晚于结束日期" in html
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_malformed_date_is_explained(as_county_officer, db, tree):
    data = {**CAMPAIGN_FORM, "end_date": "31/10/2026", "root_unit_id": tree.county.id}
    html = page(as_county_officer.post_form("/campaigns/new", data))
    assert "请按 YYYY-MM-DD 格式填写日期" in html
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_unit_outside_the_officers_area_cannot_be_chosen(as_county_officer, db, tree, other_county):
    data = {**CAMPAIGN_FORM, "root_unit_id": other_county.county.id}
    response = as_county_officer.post_form("/campaigns/new", data)
    assert response.status_code == 200 and "请从列表中选择参加单位" in page(response)
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 1  # only the other county's


def test_user_text_is_escaped(as_county_officer, db, tree):
    data = {**CAMPAIGN_FORM, "title": "<script>alert(1)</script>", "root_unit_id": tree.county.id}
    as_county_officer.post_form("/campaigns/new", data)
    campaign = db.session.scalars(select(Campaign)).one()
    html = page(as_county_officer.get(f"/campaigns/{campaign.id}"))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_editing_a_draft_saves_the_fields(as_county_officer, db, forest_fire, tree):
    data = {**CAMPAIGN_FORM, "title": "2026年森林防火宣传月（修订）", "end_date": "2026-11-05",
            "root_unit_id": tree.township_a.id}
    response = as_county_officer.post_form(f"/campaigns/{forest_fire.id}/edit", data)
    assert response.status_code == 302
    db.session.expire_all()
    campaign = db.session.get(Campaign, forest_fire.id)
    assert campaign.title == "2026年森林防火宣传月（修订）"
    assert campaign.end_date == date(2026, 11, 5) and campaign.root_unit_id == tree.township_a.id


def test_a_launched_campaign_cannot_be_edited(as_county_officer, db, active_forest_fire, tree):
    data = {**CAMPAIGN_FORM, "title": "改名", "root_unit_id": tree.county.id}
    response = as_county_officer.post_form(f"/campaigns/{active_forest_fire.id}/edit", data,
                                           follow_redirects=True)
    assert "只有草稿状态的专项行动可以修改" in page(response)
    db.session.expire_all()
    assert db.session.get(Campaign, active_forest_fire.id).title == "2026年森林防火宣传月"


# --- tasks ---------------------------------------------------------------------------------------

def test_adding_a_task(as_county_officer, db, forest_fire):
    response = as_county_officer.post_form(f"/campaigns/{forest_fire.id}/tasks/new", TASK_FORM)
    assert response.status_code == 302
    task = db.session.scalars(select(Task).where(Task.title == "悬挂横幅")).one()
    assert task.kinds == ["village", "community"] and task.target == 2 and task.measure_unit == "slogan"
    assert task.requires_photo and not task.requires_document and task.due_date == date(2026, 10, 15)


def test_a_quantity_task_without_a_unit_of_measure_is_explained(as_county_officer, db, forest_fire):
    response = as_county_officer.post_form(f"/campaigns/{forest_fire.id}/tasks/new",
                                           {**TASK_FORM, "measure_unit": ""})
    html = page(response)
    assert response.status_code == 200 and "按数量统计的任务需要选择计量单位" in html
    assert "在村委会门口悬挂横幅。" in html
    assert db.session.scalar(select(func.count()).select_from(Task).where(Task.title == "悬挂横幅")) == 0


def test_a_task_without_unit_kinds_is_explained(as_county_officer, db, forest_fire):
    data = {key: value for key, value in TASK_FORM.items() if key != "unit_kinds"}
    html = page(as_county_officer.post_form(f"/campaigns/{forest_fire.id}/tasks/new", data))
    assert "请至少选择一类单位" in html


def test_editing_a_task(as_county_officer, db, forest_fire):
    task = forest_fire.tasks[2]
    form = page(as_county_officer.get(f"/campaigns/{forest_fire.id}/tasks/{task.id}/edit"))
    assert task.title in form
    response = as_county_officer.post_form(f"/campaigns/{forest_fire.id}/tasks/{task.id}/edit",
                                           {**TASK_FORM, "title": "设置永久性宣传标牌", "target": "12"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task.id).target == 12


def test_deleting_a_task_asks_first(as_county_officer, db, forest_fire):
    task_id, title = forest_fire.tasks[0].id, forest_fire.tasks[0].title
    url = f"/campaigns/{forest_fire.id}/tasks/{task_id}/delete"
    confirm = as_county_officer.get(url)
    assert confirm.status_code == 200 and title in page(confirm)
    assert db.session.get(Task, task_id) is not None
    assert as_county_officer.post_form(url, {}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task_id) is None


def test_deleting_without_the_csrf_token_is_refused(as_county_officer, db, forest_fire):
    task = forest_fire.tasks[0]
    response = as_county_officer.post(f"/campaigns/{forest_fire.id}/tasks/{task.id}/delete")
    assert response.status_code == 400
    assert db.session.get(Task, task.id) is not None


def test_tasks_cannot_be_changed_after_launch(as_county_officer, db, active_forest_fire):
    task = active_forest_fire.tasks[0]
    base = f"/campaigns/{active_forest_fire.id}"
    for url, data in [(f"{base}/tasks/new", TASK_FORM), (f"{base}/tasks/{task.id}/edit", TASK_FORM),
                      (f"{base}/tasks/{task.id}/delete", {})]:
        response = as_county_officer.post_form(url, data)
        assert response.status_code == 302 and response.headers["Location"].endswith(base), url
    db.session.expire_all()
    campaign = db.session.get(Campaign, active_forest_fire.id)
    assert [t.title for t in campaign.tasks][0] == task.title and len(campaign.tasks) == 12
    detail = page(as_county_officer.get(base))
    assert f"{base}/tasks/{task.id}/edit" not in detail


# --- launch and close ----------------------------------------------------------------------------

def test_the_launch_page_shows_how_many_assignments_each_task_creates(as_county_officer, db, forest_fire):
    html = page(as_county_officer.get(f"/campaigns/{forest_fire.id}/launch"))
    assert "确认启动" in html
    assert '<td class="num">3</td>' in html  # the village tasks: three villages
    assert '<th class="num">26</th>' in html
    assert assignment_count(db) == 0 and db.session.get(Campaign, forest_fire.id).status == "draft"


def test_launching_creates_the_assignments_once(as_county_officer, db, forest_fire):
    url = f"/campaigns/{forest_fire.id}/launch"
    first = as_county_officer.post_form(url, {}, follow_redirects=True)
    assert "26" in page(first)
    assert assignment_count(db) == 26
    second = as_county_officer.post_form(url, {}, follow_redirects=True)
    assert "该专项行动已经启动" in page(second)
    assert assignment_count(db) == 26


def test_the_detail_page_counts_assignments_by_status(as_county_officer, db, active_forest_fire):
    html = page(as_county_officer.get(f"/campaigns/{active_forest_fire.id}"))
    assert "未填报" in html and "已审核通过" in html
    assert '<td class="num"><strong>3</strong></td>' in html


def test_closing_asks_first_then_closes(as_county_officer, db, active_forest_fire):
    url = f"/campaigns/{active_forest_fire.id}/close"
    assert as_county_officer.get(url).status_code == 200
    assert db.session.get(Campaign, active_forest_fire.id).status == "active"
    assert as_county_officer.post_form(url, {}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, active_forest_fire.id).status == "closed"


def test_closing_a_draft_is_refused_with_a_message(as_county_officer, db, forest_fire):
    response = as_county_officer.post_form(f"/campaigns/{forest_fire.id}/close", {}, follow_redirects=True)
    assert "只有进行中的专项行动可以结束" in page(response)
    db.session.expire_all()
    assert db.session.get(Campaign, forest_fire.id).status == "draft"


def test_the_web_writes_are_audited_with_the_user(as_county_officer, db, forest_fire):
    from campaign.audit.models import AuditRecord

    as_county_officer.post_form(f"/campaigns/{forest_fire.id}/launch", {})
    entry = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "campaign.launch")).one()
    assert entry.username == "county_officer" and entry.entity_id == str(forest_fire.id)
    assert entry.after["assignments_created"] == 26


# --- fixed cost ----------------------------------------------------------------------------------

def test_the_detail_page_costs_the_same_queries_whatever_the_number_of_units(
        as_county_officer, db, tree, users, count_queries):
    small = draft_from_playbook(users.county_officer, tree.township_b, title="小")
    for number in range(15):
        make_unit("village", tree.township_a, f"新村{number}")
    large = draft_from_playbook(users.county_officer, tree.county, title="大")
    services.launch_campaign(small, actor=users.county_officer)
    services.launch_campaign(large, actor=users.county_officer)
    db.session.commit()
    costs = []
    for campaign in (small, large):
        with count_queries() as statements:
            assert as_county_officer.get(f"/campaigns/{campaign.id}").status_code == 200
        costs.append(len(statements))
    assert costs[0] == costs[1]


def test_the_list_costs_the_same_queries_whatever_the_number_of_campaigns(
        as_county_officer, db, tree, users, count_queries):
    draft_from_playbook(users.county_officer, tree.county, title="一")
    db.session.commit()
    with count_queries() as statements:
        as_county_officer.get("/campaigns/")
    one = len(statements)
    for root in (tree.township_a, tree.township_b, tree.county):
        draft_from_playbook(users.county_officer, root, title=f"{root.name}活动")
    db.session.commit()
    with count_queries() as statements:
        as_county_officer.get("/campaigns/")
    assert len(statements) == one


# --- Chinese -------------------------------------------------------------------------------------

def test_the_pages_are_in_chinese(as_county_officer, forest_fire):
    listing = page(as_county_officer.get("/campaigns/"))
    assert "新建专项行动" in listing and "草稿" in listing and "2026-11-05 17:00" in listing
    detail = page(as_county_officer.get(f"/campaigns/{forest_fire.id}"))
    for text in ("汇总截止时间", "任务", "行政村", "块", "启动", "照片"):
        assert text in detail, text
    new = page(as_county_officer.get("/campaigns/new"))
    assert "从活动模板开始" in new and "森林防火宣传月" in new
    task_form = page(as_county_officer.get(f"/campaigns/{forest_fire.id}/tasks/new"))
    assert "计量单位" in task_form and "乡镇（街道）" in task_form


def test_the_pages_are_in_english_on_request(as_county_officer, forest_fire, tree):
    as_county_officer.post_form("/language", {"locale": "en", "next": "/campaigns/"})
    detail = page(as_county_officer.get(f"/campaigns/{forest_fire.id}"))
    assert "Summary deadline" in detail and "Administrative village" in detail
    data = {**CAMPAIGN_FORM, "deadline_date": "2026-10-30", "root_unit_id": tree.county.id}
    refused = page(as_county_officer.post_form(f"/campaigns/{forest_fire.id}/edit", data))
    assert "The summary deadline must not be before the end date." in refused


def test_an_unknown_playbook_in_the_address_is_explained(as_county_officer, tree):
    html = page(as_county_officer.get("/campaigns/new?playbook=no-such-plan"))
    assert "没有名为 no-such-plan 的活动模板" in html
