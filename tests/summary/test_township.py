"""The township summary: figures compiled from approved reports, corrections with a note, on time
or late to the second, return → resubmit → approve, optimistic locking, and who may do what."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditRecord
from campaign.extensions import db as _db
from campaign.summary import township as township_module
from campaign.summary.models import TownshipSummary
from campaign.summary.township import (
    SummaryError,
    approve_summary,
    compiled_figures,
    return_summary,
    save_summary,
    summary_of,
    timeliness,
)
from tests.conftest import counting_queries as counting
from tests.conftest import log_in
from tests.factories import make_campaign, make_task, make_unit, make_user
from tests.progress.chasing_helpers import TITLE, make_report

ROLES = ["admin", "county_officer", "township_officer", "village_reporter", "school_reporter",
         "agency_reporter", "inspector", "viewer"]
SECOND = timedelta(seconds=1)


@pytest.fixture
def built(db, tree, users):
    """township_a: signs approved 6+5 (village_a1) and 20 (community_a), submitted 4 (village_a2, not
    counted); plan approved done (village_a1), approved not done (village_a2); its own plan approved
    done. township_b: signs approved 7 (village_b1)."""
    campaign = make_campaign(tree.county, title=TITLE, status="active")
    signs = make_task(campaign, "设置永久性宣传标牌", kinds=("village", "community"), target=10)
    plan = make_task(campaign, "制定村级防火公约", kinds=("village",), measure="done")
    township_plan = make_task(campaign, "制定实施方案", kinds=("township",), measure="done")
    make_report(campaign, signs, tree.village_a1, "approved", (6, 5))
    make_report(campaign, signs, tree.community_a, "approved", (20,))
    pending = make_report(campaign, signs, tree.village_a2, "submitted", (4,))
    make_report(campaign, signs, tree.village_b1, "approved", (7,))
    a1_plan = make_report(campaign, plan, tree.village_a1, "approved")
    a1_plan.done = True
    make_report(campaign, plan, tree.village_a2, "approved")
    own_plan = make_report(campaign, township_plan, tree.township_a, "approved")
    own_plan.done = True
    officer_b = make_user("township_officer", tree.township_b, "officer_b")
    _db.session.commit()
    return SimpleNamespace(campaign=campaign, signs=signs, plan=plan, township_plan=township_plan,
                           pending=pending, officer_b=officer_b)


def own_url(built):
    return f"/summary/campaigns/{built.campaign.id}/township"


def review_url(built, unit, suffix=""):
    return f"/summary/campaigns/{built.campaign.id}/townships/{unit.id}{suffix}"


def list_url(built):
    return f"/summary/campaigns/{built.campaign.id}/townships"


def form(built, version=0, action="save", work_done="开展宣传活动12场。", corrections=None, **narrative):
    corrections = corrections or {}
    data = {"version": str(version), "work_done": work_done, "highlights": narrative.get("highlights", ""),
            "problems": narrative.get("problems", ""), "next_steps": narrative.get("next_steps", ""),
            "action": action}
    for index, task in enumerate(built.campaign.tasks):
        value, note = corrections.get(task.id, ("", ""))
        data[f"figures-{index}-task_id"] = str(task.id)
        data[f"figures-{index}-corrected_value"] = str(value)
        data[f"figures-{index}-correction_note"] = note
    return data


def current(built, tree, township=None):
    _db.session.expire_all()
    return summary_of(built.campaign, township or tree.township_a)


def submit_as(client, built, version=0, **kwargs):
    return client.post_form(own_url(built), form(built, version=version, action="submit", **kwargs))


# --- compiling -------------------------------------------------------------------------------

def test_figures_are_compiled_from_approved_reports_only(built, tree):
    assert compiled_figures(built.campaign, tree.township_a) == {
        built.signs.id: 31,  # 6 + 5 + 20; village_a2's submitted 4 waits for approval
        built.plan.id: 1,  # approved and done; approved but not done does not count
        built.township_plan.id: 1,
    }
    assert compiled_figures(built.campaign, tree.township_b) == {built.signs.id: 7}


def test_the_draft_page_shows_the_figures_as_they_stand_and_the_submitted_ones_are_frozen(
        as_township_officer, built, tree, db):
    html = as_township_officer.get(own_url(built)).get_data(as_text=True)
    assert '<td class="num">31</td>' in html
    built.pending.status = "approved"
    db.session.commit()
    html = as_township_officer.get(own_url(built)).get_data(as_text=True)
    assert '<td class="num">35</td>' in html
    submit_as(as_township_officer, built)
    make_report(built.campaign, built.signs, make_unit("village", tree.township_a, "新村"), "approved", (100,))
    db.session.commit()
    html = as_township_officer.get(own_url(built)).get_data(as_text=True)
    assert '<td class="num">35</td>' in html and "135" not in html


# --- saving and correcting -------------------------------------------------------------------

def test_a_draft_is_saved_with_its_figures_and_audited(as_township_officer, built, tree, users, db):
    response = as_township_officer.post_form(own_url(built), form(built, highlights="“防火码”上墙"))
    assert response.status_code == 302
    summary = current(built, tree)
    assert summary.status == "draft" and summary.highlights == "“防火码”上墙" and summary.first_submitted_at is None
    assert {figure.task_id: figure.value for figure in summary.figures} == {
        built.signs.id: 31, built.plan.id: 1, built.township_plan.id: 1}
    entry = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "summary.save")).one()
    assert entry.user_id == users.township_officer.id and entry.entity_id == str(summary.id)
    assert "暂存" in as_township_officer.get(own_url(built)).get_data(as_text=True)


def test_a_corrected_figure_needs_a_note_and_nothing_typed_is_lost(as_township_officer, built, tree):
    data = form(built, work_done="我们做了大量工作", corrections={built.signs.id: (33, "")})
    response = as_township_officer.post_form(own_url(built), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "每项更正的数据都须填写更正理由。" in html and "请填写更正理由。" in html
    assert "我们做了大量工作" in html and 'value="33"' in html
    assert current(built, tree) is None

    data = form(built, corrections={built.signs.id: (33, "青山村2块标牌漏报")})
    assert as_township_officer.post_form(own_url(built), data).status_code == 302
    figure = next(f for f in current(built, tree).figures if f.task_id == built.signs.id)
    assert (figure.compiled_value, figure.corrected_value, figure.value) == (31, 33, 33)
    assert figure.correction_note == "青山村2块标牌漏报"


def test_a_figure_that_is_not_a_number_is_refused_with_the_input_kept(as_township_officer, built, tree):
    data = form(built, work_done="工作内容", corrections={built.signs.id: ("三十", "")})
    html = as_township_officer.post_form(own_url(built), data).get_data(as_text=True)
    assert "请填写 0 或以上的整数。" in html
    assert "工作内容" in html and 'value="三十"' in html
    assert current(built, tree) is None


def test_the_service_refuses_a_correction_without_a_note(built, tree, users):
    with pytest.raises(SummaryError) as refused:
        save_summary(built.campaign, tree.township_a, actor=users.township_officer, version=0,
                     narrative={"work_done": "x"}, corrections={built.plan.id: (0, "  ")})
    assert refused.value.code == "note_required" and refused.value.details["task_ids"] == [built.plan.id]


def test_submitting_needs_the_work_done(as_township_officer, built, tree):
    html = submit_as(as_township_officer, built, work_done="  ").get_data(as_text=True)
    assert "上报前请填写主要工作开展情况。" in html
    assert current(built, tree) is None


# --- on time or late, to the second ----------------------------------------------------------

def test_submitted_at_the_deadline_second_is_on_time_and_a_second_later_late(built, tree, users, db):
    deadline = built.campaign.deadline_at
    on_time = save_summary(built.campaign, tree.township_a, actor=users.township_officer, version=0,
                           narrative={"work_done": "按时"}, corrections={}, submit=True, now=deadline)
    late = save_summary(built.campaign, tree.township_b, actor=built.officer_b, version=0,
                        narrative={"work_done": "晚了"}, corrections={}, submit=True, now=deadline + SECOND)
    db.session.commit()
    assert on_time.first_submitted_at == deadline and timeliness(on_time, built.campaign) == "on_time"
    assert late.first_submitted_at == deadline + SECOND and timeliness(late, built.campaign) == "late"
    assert timeliness(None, built.campaign, now=deadline) == "pending"
    assert timeliness(None, built.campaign, now=deadline + SECOND) == "missing"


def test_the_county_sees_who_is_on_time_and_who_is_late(app, as_county_officer, login, built, monkeypatch):
    deadline = built.campaign.deadline_at
    monkeypatch.setattr(township_module, "utcnow", lambda: deadline)
    submit_as(login("township_officer"), built)
    monkeypatch.setattr(township_module, "utcnow", lambda: deadline + SECOND)
    officer_b = log_in(app.test_client(), "officer_b")
    assert "已过截止时间" in officer_b.get(own_url(built)).get_data(as_text=True)
    submit_as(officer_b, built)
    monkeypatch.undo()

    html = as_county_officer.get(list_url(built)).get_data(as_text=True)
    township_a_row = html[html.index("玲珑街道"):html.index("太湖源镇")]
    township_b_row = html[html.index("太湖源镇"):]
    assert "按时" in township_a_row and "已上报" in township_a_row
    assert "逾期" in township_b_row
    assert "17:00:00" in township_a_row and "17:00:01" in township_b_row


# --- return, resubmit, approve ---------------------------------------------------------------

def test_return_resubmit_approve(as_township_officer, as_county_officer, built, tree, users, db, monkeypatch):
    deadline = built.campaign.deadline_at
    monkeypatch.setattr(township_module, "utcnow", lambda: deadline - timedelta(hours=1))
    submit_as(as_township_officer, built)
    summary = current(built, tree)
    assert summary.status == "submitted"

    no_reason = as_county_officer.post_form(review_url(built, tree.township_a, "/return"),
                                            {"version": str(summary.version), "reason": " "})
    assert no_reason.status_code == 200 and "请填写退回理由。" in no_reason.get_data(as_text=True)
    assert current(built, tree).status == "submitted"

    as_county_officer.post_form(review_url(built, tree.township_a, "/return"),
                                {"version": str(summary.version), "reason": "问题部分过于简略，请补充"})
    summary = current(built, tree)
    assert summary.status == "returned" and summary.reviewed_by_id == users.county_officer.id
    html = as_township_officer.get(own_url(built)).get_data(as_text=True)
    assert "问题部分过于简略，请补充" in html and "已退回" in html

    monkeypatch.setattr(township_module, "utcnow", lambda: deadline + timedelta(days=2))
    response = submit_as(as_township_officer, built, version=summary.version,
                         problems="部分村宣传标牌设置位置不醒目")
    assert response.status_code == 302
    summary = current(built, tree)
    assert summary.status == "submitted" and summary.problems == "部分村宣传标牌设置位置不醒目"
    assert summary.first_submitted_at == deadline - timedelta(hours=1)  # still on time
    assert summary.submitted_at == deadline + timedelta(days=2)
    assert timeliness(summary, built.campaign) == "on_time"

    as_county_officer.post_form(review_url(built, tree.township_a, "/approve"), {"version": str(summary.version)})
    assert current(built, tree).status == "approved"
    actions = db.session.scalars(
        select(AuditRecord.action).where(AuditRecord.entity_type == "township_summary").order_by(AuditRecord.id)
    ).all()
    assert actions == ["summary.submit", "summary.return", "summary.submit", "summary.approve"]


def test_a_submitted_summary_cannot_be_changed_by_the_township(as_township_officer, built, tree):
    submit_as(as_township_officer, built, work_done="原文")
    summary = current(built, tree)
    response = as_township_officer.post_form(own_url(built), form(built, version=summary.version, work_done="改了"))
    assert "总结材料已上报，除非被区（县）退回，不能再修改。" in response.get_data(as_text=True)
    assert current(built, tree).work_done == "原文"


def test_the_county_cannot_approve_what_was_not_submitted(as_county_officer, as_township_officer, built, tree):
    as_township_officer.post_form(own_url(built), form(built))
    summary = current(built, tree)
    html = as_county_officer.post_form(review_url(built, tree.township_a, "/approve"),
                                       {"version": str(summary.version)}, follow_redirects=True).get_data(as_text=True)
    assert "不允许进行此状态变更。" in html
    assert current(built, tree).status == "draft"


# --- optimistic locking ----------------------------------------------------------------------

def test_a_stale_save_is_refused_and_overwrites_nothing(as_township_officer, login, built, tree):
    first = as_township_officer
    second = login("township_officer")
    first.post_form(own_url(built), form(built, work_done="第一人的内容"))  # both opened version 0
    response = second.post_form(own_url(built), form(built, version=0, work_done="第二人的内容"))
    html = response.get_data(as_text=True)
    assert "他人已保存了这份总结，本次未保存" in html and "第二人的内容" in html
    assert current(built, tree).work_done == "第一人的内容"


def test_a_stale_review_is_refused(as_township_officer, as_county_officer, built, tree, users, db):
    submit_as(as_township_officer, built)
    opened = current(built, tree).version
    return_summary(current(built, tree), actor=users.county_officer, version=opened, reason="补充数据")
    db.session.commit()
    submit_as(as_township_officer, built, version=current(built, tree).version)
    with pytest.raises(SummaryError) as refused:
        approve_summary(current(built, tree), actor=users.county_officer, version=opened)
    assert refused.value.code == "stale"
    db.session.rollback()
    assert current(built, tree).status == "submitted"


# --- who may do what -------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_only_a_township_officer_writes_a_township_summary(role, login, built, tree):
    client = login(role)
    expected = 200 if role == "township_officer" else 403
    assert client.get(own_url(built)).status_code == expected
    response = client.post_form(own_url(built), form(built))
    assert response.status_code == (302 if role == "township_officer" else 403)
    assert (current(built, tree) is not None) == (role == "township_officer")


@pytest.mark.parametrize("role", ROLES)
def test_only_the_county_office_lists_and_reviews(role, login, built, tree, users):
    save_summary(built.campaign, tree.township_a, actor=users.township_officer, version=0,
                 narrative={"work_done": "内容"}, corrections={}, submit=True)
    _db.session.commit()
    version = str(current(built, tree).version)
    client = login(role)
    allowed = role in ("admin", "county_officer")
    assert client.get(list_url(built)).status_code == (200 if allowed else 403)
    assert client.get(review_url(built, tree.township_a)).status_code == (200 if allowed else 403)
    assert client.get(review_url(built, tree.township_a, "/return")).status_code == (200 if allowed else 403)
    response = client.post_form(review_url(built, tree.township_a, "/approve"), {"version": version})
    assert response.status_code == (302 if allowed else 403)
    assert current(built, tree).status == ("approved" if allowed else "submitted")


def test_url_tampering_gives_404(as_county_officer, as_township_officer, built, tree, db):
    assert as_county_officer.get(review_url(built, tree.village_a1)).status_code == 404  # not a township
    assert as_county_officer.get(f"/summary/campaigns/{built.campaign.id}/townships/999999").status_code == 404
    neighbour = make_unit("county", None, "桐庐县")
    far_township = make_unit("township", neighbour, "分水镇")
    hidden = make_campaign(neighbour, title="桐庐县防溺水专项行动", status="active")
    draft = make_campaign(tree.county, title="草稿活动")
    only_b = make_campaign(tree.township_b, title="太湖源镇自己的活动", status="active")
    db.session.commit()
    assert as_county_officer.get(review_url(built, far_township)).status_code == 404
    assert as_county_officer.get(f"/summary/campaigns/{hidden.id}/townships").status_code == 404
    assert as_county_officer.get(f"/summary/campaigns/{hidden.id}/townships/{far_township.id}").status_code == 404
    assert as_county_officer.get(f"/summary/campaigns/{draft.id}/townships").status_code == 404
    assert as_township_officer.get(f"/summary/campaigns/{hidden.id}/township").status_code == 404
    assert as_township_officer.get(f"/summary/campaigns/{draft.id}/township").status_code == 404
    assert as_township_officer.get(f"/summary/campaigns/{only_b.id}/township").status_code == 404


def test_the_service_refuses_another_townships_officer(built, tree):
    with pytest.raises(SummaryError) as refused:
        save_summary(built.campaign, tree.township_a, actor=built.officer_b, version=0,
                     narrative={"work_done": "x"}, corrections={})
    assert refused.value.code == "not_allowed"


def test_a_closed_campaign_keeps_its_summaries_as_they_are(as_township_officer, built, tree, db):
    built.campaign.status = "closed"
    db.session.commit()
    html = as_township_officer.post_form(own_url(built), form(built)).get_data(as_text=True)
    assert "活动不在进行中，总结材料不能再修改。" in html
    assert current(built, tree) is None


# --- the pages in Chinese, at a fixed cost ---------------------------------------------------

def test_the_pages_are_chinese(as_township_officer, as_county_officer, built, tree):
    html = as_township_officer.get(own_url(built)).get_data(as_text=True)
    for text in ("玲珑街道活动总结", "总结材料", "主要工作", "工作亮点和经验做法", "存在的问题", "下步打算",
                 "按已审核通过的报送汇总", "更正后数据", "更正理由", "上报区（县）", "尚未上报"):
        assert text in html, text
    submit_as(as_township_officer, built)
    html = as_county_officer.get(list_url(built)).get_data(as_text=True)
    assert "乡镇总结" in html and "按时" in html and "尚未上报" in html
    html = as_county_officer.get(review_url(built, tree.township_a)).get_data(as_text=True)
    assert "审核通过" in html and "退回修改" in html
    html = as_county_officer.get(review_url(built, tree.township_a, "/return")).get_data(as_text=True)
    assert "退回理由" in html




def test_the_county_list_costs_the_same_queries_for_2_and_22_townships(as_county_officer, built, tree, db):
    with counting() as small:
        as_county_officer.get(list_url(built))
    for index in range(20):
        township = make_unit("township", tree.county, f"新镇{index}")
        db.session.add(TownshipSummary(campaign_id=built.campaign.id, unit_id=township.id, work_done="x",
                                       status="draft"))
    db.session.commit()
    with counting() as large:
        html = as_county_officer.get(list_url(built)).get_data(as_text=True)
    assert "新镇19" in html and len(large) == len(small)
