"""In a real browser on a phone-sized screen, a village reporter logs in and sees their tasks."""
import pytest

from campaign.campaigns.models import Assignment, CampaignStatus
from tests import factories

pytestmark = pytest.mark.browser


def launched_campaign_for(tree):
    campaign = factories.make_campaign(tree.county, title="2026年森林防火宣传月活动")
    signs = factories.make_task(campaign, title="设置永久性宣传标牌", target=10, measure_unit="board")
    lesson = factories.make_task(campaign, title="开展森林防火安全教育课", kinds=("school",), measure="done")
    campaign.status = CampaignStatus.ACTIVE.value
    factories.db.session.add_all(
        [Assignment(campaign=campaign, task=signs, unit=tree.village_a1),
         Assignment(campaign=campaign, task=lesson, unit=tree.school_a)]
    )
    factories.db.session.commit()
    return campaign


def test_a_village_reporter_on_a_phone_sees_the_campaign_tasks_in_chinese(
    live_server, phone_page, users, tree, screenshot
):
    launched_campaign_for(tree)
    page = phone_page
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("village_reporter")
    page.get_by_label("密码").fill(factories.DEFAULT_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")

    tasks = page.locator(".tasklist")
    assert "我的任务" in page.locator("h1").first.inner_text()
    assert "2026年森林防火宣传月活动" in page.content()
    assert "设置永久性宣传标牌" in tasks.inner_text()
    assert "0 / 10 块" in tasks.inner_text()
    assert "未填报" in tasks.inner_text()
    assert "开展森林防火安全教育课" not in tasks.inner_text()  # the school's task, not the village's
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling on a phone
    screenshot(page, "village-reporter-my-tasks")
