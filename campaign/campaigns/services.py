"""Campaign domain logic shared by the views, the CLI and the API."""
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from .. import permissions
from ..extensions import db
from ..units.models import Unit
from .models import Assignment, Campaign, CampaignStatus, Task


def campaigns_for(user) -> list[Campaign]:
    """Campaigns the user can see, newest first."""
    root = aliased(Unit)
    query = (
        select(Campaign)
        .join(root, Campaign.root_unit_id == root.id)
        .where(permissions.campaigns_visible_to(user, root))
        .order_by(Campaign.start_date.desc(), Campaign.id.desc())
    )
    return list(db.session.scalars(query))


def open_assignments_for(user) -> list[tuple[Campaign, list[Assignment]]]:
    """The assignments of the user's own unit in active campaigns, grouped by campaign."""
    query = (
        select(Assignment)
        .join(Assignment.campaign)
        .join(Assignment.task)
        .where(Assignment.unit_id == user.unit_id, Campaign.status == CampaignStatus.ACTIVE.value)
        .options(
            joinedload(Assignment.campaign),
            joinedload(Assignment.task),
            joinedload(Assignment.unit),
            joinedload(Assignment.instalments),
        )
        .order_by(Campaign.deadline_at, Campaign.id, Task.position, Task.id)
    )
    assignments = db.session.scalars(query).unique().all()
    return [(campaign, list(items)) for campaign, items in groupby(assignments, key=lambda a: a.campaign)]
