"""What the home page shows each user: their unit's open tasks, and the campaigns they can see."""
from ..campaigns.services import campaigns_for
from ..reporting.services import my_assignments


def home_page_data(user) -> dict:
    return {
        "assignments_by_campaign": my_assignments(user),
        "campaigns": campaigns_for(user),
    }
