"""What the home page shows each user: their unit's open tasks, and the campaigns they can see."""
from ..campaigns.services import campaigns_for, open_assignments_for


def home_page_data(user) -> dict:
    return {
        "assignments_by_campaign": open_assignments_for(user),
        "campaigns": campaigns_for(user),
    }
