"""Language choice and the display names of the domain's fixed vocabularies.

Code keeps English keys ("village", "board"); what a county official reads comes from the
translation catalogue through these labels.
"""
from flask import current_app, request, session
from flask_babel import lazy_gettext as _l

BROWSER_LANGUAGES = {"zh": "zh_Hans_CN", "zh_CN": "zh_Hans_CN", "zh_Hans_CN": "zh_Hans_CN", "en": "en"}

UNIT_KIND_LABELS = {
    "province": _l("Province"),
    "city": _l("City"),
    "county": _l("County / district"),
    "township": _l("Township / street"),
    "village": _l("Administrative village"),
    "community": _l("Community"),
    "school": _l("School"),
    "kindergarten": _l("Kindergarten"),
    "agency": _l("Agency"),
}

# Categories inside a unit kind: the kind of school, the agency's line of work. Tasks may target one.
UNIT_CATEGORY_LABELS = {
    "primary": _l("Primary school"),
    "middle": _l("Middle school"),
    "high": _l("High school"),
    "vocational": _l("Vocational school"),
    "carrier": _l("Telecom carrier"),
    "weather": _l("Weather bureau"),
    "police": _l("Police station"),
    "hospital": _l("Hospital"),
    "education": _l("Education bureau"),
    "forestry": _l("Forestry bureau"),
    "water_resources": _l("Water resources bureau"),
    "emergency": _l("Emergency management bureau"),
    "fire_rescue": _l("Fire and rescue brigade"),
    "media": _l("Radio and television"),
}

ROLE_LABELS = {
    "admin": _l("System administrator"),
    "county_officer": _l("County office"),
    "township_officer": _l("Township officer"),
    "village_reporter": _l("Village reporter"),
    "school_reporter": _l("School reporter"),
    "agency_reporter": _l("Agency reporter"),
    "inspector": _l("Inspector"),
    "viewer": _l("Viewer"),
}

CAMPAIGN_STATUS_LABELS = {
    "draft": _l("Draft"),
    "upcoming": _l("Launched, not started yet"),
    "active": _l("Active"),
    "closed": _l("Closed"),
}

ASSIGNMENT_STATUS_LABELS = {
    "not_started": _l("Not started"),
    "draft": _l("Draft saved"),
    "submitted": _l("Submitted"),
    "returned": _l("Returned"),
    "approved": _l("Approved"),
}

MEASURE_LABELS = {
    "done": _l("Done / not done"),
    "quantity": _l("Quantity against a target"),
}

MEASURE_UNIT_LABELS = {
    "board": _l("boards"),
    "slogan": _l("slogans"),
    "copy": _l("copies"),
    "time": _l("times"),
    "person": _l("people"),
    "lesson": _l("lessons"),
    "message": _l("messages"),
    "household": _l("households"),
    "place": _l("places"),
}


def label(labels: dict, key) -> str:
    """The display name of a code, or the code itself when the vocabulary does not know it."""
    return str(labels[key]) if key in labels else ("" if key is None else str(key))


def select_locale():
    """The user's choice, else the browser's Chinese or English, else Chinese."""
    chosen = session.get("locale")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"]) if request else None
    if best:
        return BROWSER_LANGUAGES.get(best.replace("-", "_"), current_app.config["BABEL_DEFAULT_LOCALE"])
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def template_labels():
    return {
        "unit_kind_labels": UNIT_KIND_LABELS,
        "unit_category_labels": UNIT_CATEGORY_LABELS,
        "role_labels": ROLE_LABELS,
        "campaign_status_labels": CAMPAIGN_STATUS_LABELS,
        "assignment_status_labels": ASSIGNMENT_STATUS_LABELS,
        "measure_labels": MEASURE_LABELS,
        "measure_unit_labels": MEASURE_UNIT_LABELS,
    }
