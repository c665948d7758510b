"""Reporting fixtures: a running forest-fire month with its assignments, photos and documents
to upload, and a counter of SQL statements."""
import io
from datetime import time, timedelta
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import select

from campaign.campaigns.models import Assignment
from campaign.campaigns.services import launch_campaign
from campaign.timeutil import local_to_utc, local_today
from tests import factories


def make_running_campaign(tree, *, root=None, title="2026年森林防火宣传月活动", deadline=None):
    """A launched campaign: started 5 days ago, ends in 25 days, deadline 17:00 five days later."""
    start = local_today() - timedelta(days=5)
    end = start + timedelta(days=30)
    campaign = factories.make_campaign(
        root or tree.county, title=title, start=start, end=end,
        deadline=deadline or local_to_utc(end + timedelta(days=5), time(17, 0)),
    )
    signs = factories.make_task(campaign, title="设置永久性宣传标牌", target=10, measure_unit="board",
                                requires_photo=True)
    leaflets = factories.make_task(campaign, title="逐户发放《禁火令》", kinds=("village", "community"),
                                   measure="done")
    plan = factories.make_task(campaign, title="制定宣传月活动实施方案", kinds=("township",), measure="done",
                               requires_document=True)
    launch_campaign(campaign)
    factories.db.session.commit()
    return SimpleNamespace(campaign=campaign, signs=signs, leaflets=leaflets, plan=plan)


def assignment_of(task, unit) -> Assignment:
    return factories.db.session.scalar(
        select(Assignment).where(Assignment.task_id == task.id, Assignment.unit_id == unit.id)
    )


@pytest.fixture
def running(db, tree, users):
    made = make_running_campaign(tree)
    made.signs_a1 = assignment_of(made.signs, tree.village_a1)
    made.signs_a2 = assignment_of(made.signs, tree.village_a2)
    made.signs_b1 = assignment_of(made.signs, tree.village_b1)
    made.leaflets_a1 = assignment_of(made.leaflets, tree.village_a1)
    made.plan_a = assignment_of(made.plan, tree.township_a)
    return made


def jpeg_bytes(color=(200, 30, 30), size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


