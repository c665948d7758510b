from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..i18n import MEASURE_LABELS, MEASURE_UNIT_LABELS, UNIT_CATEGORY_LABELS, UNIT_KIND_LABELS
from ..units.models import UnitKind
from ..validators import NumberRange
from .models import Measure, MeasureUnit

REQUIRED = _l("This field is required.")
NOT_A_DATE = _l("Enter a date as YYYY-MM-DD.")
NOT_A_TIME = _l("Enter a time as HH:MM.")
NOT_A_COUNT = _l("Enter a whole number, 0 or more.")
CHOOSE_UNIT = _l("Choose the participating unit from the list.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PlaybookChoiceForm(FlaskForm):
    """The GET form that pre-fills a new campaign from a playbook for a chosen year."""

    class Meta:
        csrf = False

    playbook = SelectField(_l("Playbook"), validators=[Optional()])
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=2000, max=2100)])


class CampaignForm(FlaskForm):
    playbook_key = HiddenField()
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=200)])
    theme = StringField(_l("Theme"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    root_unit_id = SelectField(_l("Participating units (this unit and all below it)"), coerce=int,
                               validators=[InputRequired(REQUIRED)],
                               invalid_value_message=CHOOSE_UNIT, invalid_choice_message=CHOOSE_UNIT)
    start_date = DateField(_l("Start date"), validators=[InputRequired(REQUIRED)],
                           invalid_value_message=NOT_A_DATE)
    end_date = DateField(_l("End date"), validators=[InputRequired(REQUIRED)],
                         invalid_value_message=NOT_A_DATE)
    deadline_date = DateField(_l("Summary deadline (date)"), validators=[InputRequired(REQUIRED)],
                              invalid_value_message=NOT_A_DATE)
    deadline_time = TimeField(_l("Summary deadline (time, Beijing time)"), validators=[InputRequired(REQUIRED)],
                              invalid_value_message=NOT_A_TIME)


class TaskForm(FlaskForm):
    title = StringField(_l("Task"), validators=[DataRequired(REQUIRED), Length(max=200)])
    description = TextAreaField(_l("What is to be done"), validators=[Optional(), Length(max=5000)])
    unit_kinds = MultiCheckboxField(
        _l("Assigned to units of kind"),
        choices=[SelectChoice(kind, UNIT_KIND_LABELS[kind]) for kind in UnitKind.values()],
        invalid_choice_message=_l("Choose unit kinds from the list."),
    )
    unit_category = SelectField(
        _l("Only units of category"),
        choices=[SelectChoice("", _l("Any category"))]
        + [SelectChoice(code, label) for code, label in UNIT_CATEGORY_LABELS.items()],
        validators=[Optional()],
        invalid_choice_message=_l("Choose a unit category from the list."),
    )
    measure = SelectField(_l("Measure"), choices=[SelectChoice(m.value, MEASURE_LABELS[m.value]) for m in Measure],
                          invalid_choice_message=_l("Choose a measure from the list."))
    target = IntegerField(_l("Target"), invalid_value_message=NOT_A_COUNT,
                          validators=[Optional(), NumberRange(min=0, max=10_000_000, message=NOT_A_COUNT)])
    measure_unit = SelectField(
        _l("Unit of measure"),
        choices=[SelectChoice("", "—")] + [SelectChoice(u.value, MEASURE_UNIT_LABELS[u.value]) for u in MeasureUnit],
        validators=[Optional()],
        invalid_choice_message=_l("Choose a unit of measure from the list."),
    )
    requires_photo = BooleanField(_l("Photos required"))
    requires_document = BooleanField(_l("Document required"))
    due_date = DateField(_l("Due date (optional)"), validators=[Optional()], invalid_value_message=NOT_A_DATE)

    def task_fields(self) -> dict:
        return {
            "title": self.title.data,
            "description": self.description.data,
            "unit_kinds": self.unit_kinds.data or [],
            "unit_category": self.unit_category.data,
            "measure": self.measure.data,
            "target": self.target.data,
            "measure_unit": self.measure_unit.data or None,
            "requires_photo": self.requires_photo.data,
            "requires_document": self.requires_document.data,
            "due_date": self.due_date.data,
        }


class ConfirmForm(FlaskForm):
    """An empty form: the CSRF token of a confirmation step."""
