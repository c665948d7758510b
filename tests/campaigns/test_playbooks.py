"""Playbooks ship as TOML files in the package; the loader refuses a broken one."""
from datetime import date, time

import pytest

from campaign.campaigns.models import Measure, MeasureUnit
from campaign.campaigns.playbooks import (
    PLAYBOOK_DIR,
    PlaybookError,
    get_playbook,
    list_playbooks,
    load_playbook,
    load_playbooks,
)
from campaign.units.models import UnitKind

GOOD = """
key = "test-drive"
title = "测试专项行动"
theme = "测试"
[window]
start = "10-01"
end = "10-31"
[deadline]
days_after_end = 5
time = "17:00"
[[tasks]]
title = "设置标牌"
unit_kinds = ["village"]
measure = "quantity"
target = 10
measure_unit = "board"
"""


def write(tmp_path, text, name="drive.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_both_shipped_playbooks_load():
    keys = {playbook.key for playbook in list_playbooks()}
    assert {"forest-fire-month", "drowning-prevention"} <= keys
    assert (PLAYBOOK_DIR / "forest-fire-month.toml").exists()
    assert (PLAYBOOK_DIR / "drowning-prevention.toml").exists()


def test_every_shipped_task_uses_known_kinds_measures_and_units():
    for playbook in list_playbooks():
        assert playbook.tasks, playbook.key
        for task in playbook.tasks:
            assert set(task.unit_kinds) <= set(UnitKind.values())
            assert task.measure in {m.value for m in Measure}
            if task.measure == Measure.QUANTITY.value:
                assert task.measure_unit in {u.value for u in MeasureUnit}


def test_forest_fire_month_follows_the_plan():
    playbook = get_playbook("forest-fire-month")
    assert playbook.theme == "宣传造势防林火、群防群治保平安"
    assert playbook.window_for(2026) == (date(2026, 10, 1), date(2026, 10, 31))
    assert playbook.deadline_for(2026) == (date(2026, 11, 5), time(17, 0))
    by_title = {task.title: task for task in playbook.tasks}
    signs = by_title["设置永久性宣传标牌"]
    assert (signs.unit_kinds, signs.measure, signs.target, signs.measure_unit) == (
        ("village",), "quantity", 10, "board")
    slogans = by_title["悬挂森林防火宣传标语"]
    assert (slogans.target, slogans.measure_unit) == (10, "slogan")
    sms = by_title["发送森林防火提醒短信"]
    assert (sms.unit_kinds, sms.unit_category, sms.measure_unit) == (("agency",), "carrier", "message")
    assert by_title["发布火险天气等级、播放警示标语"].unit_category == "weather"
    plan = by_title["制定宣传月活动实施方案"]
    assert plan.unit_kinds == ("township",) and plan.requires_document
    assert by_title["修订完善《森林火灾应急预案》"].requires_document
    assert by_title["报送活动总结材料及报表"].due_date(date(2026, 10, 1)) == date(2026, 11, 5)
    assert by_title["开设森林防火安全教育课"].unit_kinds == ("school",)
    assert by_title["逐家逐户发放宣传单和《禁火令》"].unit_kinds == ("village", "community")


def test_drowning_prevention_follows_the_plan():
    playbook = get_playbook("drowning-prevention")
    start, end = playbook.window_for(2026)
    assert start.month == 6 and end.month == 8
    by_title = {task.title: task for task in playbook.tasks}
    register = by_title["水域登记，填报重点水域排查情况登记表"]
    assert register.measure == "done" and register.requires_document
    assert by_title["与家长签订《责任书》"].unit_kinds == ("school", "kindergarten")
    assert by_title["明确重点水域安全信息员"].measure_unit == "person"
    assert by_title["配合开展辖区水域排查"].unit_category == "police"
    assert by_title["进校开展溺水急救培训"].unit_category == "hospital"
    assert by_title["建立隐患排查台账"].unit_kinds == ("township",)


def test_unknown_playbook_key_gives_none():
    assert get_playbook("no-such-playbook") is None


def test_a_valid_file_loads(tmp_path):
    playbook = load_playbook(write(tmp_path, GOOD))
    assert playbook.key == "test-drive"
    assert playbook.tasks[0].target == 10


@pytest.mark.parametrize(
    "broken, complaint",
    [
        (GOOD.replace('unit_kinds = ["village"]', 'unit_kinds = ["hamlet"]'), "unknown unit kinds"),
        (GOOD.replace('measure = "quantity"', 'measure = "percent"'), "unknown measure"),
        (GOOD.replace('measure_unit = "board"', 'measure_unit = "crate"'), "measure_unit"),
        (GOOD.replace('target = 10', 'target = -1'), "target"),
        (GOOD.replace('measure = "quantity"', 'unit_category = "sms"\nmeasure = "quantity"'), "unit_category"),
        (GOOD.replace('start = "10-01"', 'start = "13-01"'), "window.start"),
        (GOOD.replace('time = "17:00"', 'time = "5pm"'), "deadline.time"),
        (GOOD.replace('title = "设置标牌"', 'titel = "设置标牌"'), "unknown fields"),
        (GOOD.replace('key = "test-drive"', ''), "key is required"),
        (GOOD.split("[[tasks]]")[0], "at least one"),
        (GOOD + "[[tasks]]\ntitle = 'x'\nunit_kinds = ['village']\nmeasure = 'done'\ntarget = 3\n", "no target"),
        ("key = ", "cannot read"),
    ],
)
def test_a_broken_file_is_refused_with_the_reason(tmp_path, broken, complaint):
    with pytest.raises(PlaybookError, match=complaint):
        load_playbook(write(tmp_path, broken))


def test_two_files_with_the_same_key_are_refused(tmp_path):
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, GOOD, "b.toml")
    with pytest.raises(PlaybookError, match="used twice"):
        load_playbooks(tmp_path)
