"""Forms and messages of the township summary pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..validators import NumberRange
from .township import MAX_FIGURE

NOT_A_COUNT = _l("Enter a whole number, 0 or more.")
NARRATIVE_LIMIT = 20000

SUMMARY_ERRORS = {
    "stale": _l("Someone saved this summary after you opened it, so nothing was saved. Your text is still "
                "below: copy what you need, reload the page and save again."),
    "not_editable": _l("This summary has been submitted and can no longer be changed, unless the county "
                       "returns it."),
    "campaign_not_active": _l("The campaign is not active: its summaries can no longer be changed."),
    "note_required": _l("Give the reason for each corrected figure."),
    "bad_figure": NOT_A_COUNT,
    "work_done_required": _l("Describe the work done before submitting."),
    "reason_required": _l("Give the reason for returning the summary."),
    "nothing_submitted": _l("This township has not submitted a summary yet."),
    "invalid_transition": _l("This status change is not allowed."),
    "not_allowed": _l("You may not do this."),
}

TIMELINESS_LABELS = {
    "on_time": _l("On time"),
    "late": _l("Late"),
    "pending": _l("Not submitted yet"),
    "missing": _l("Not submitted (overdue)"),
}


def summary_error_message(error) -> str:
    message = SUMMARY_ERRORS.get(error.code)
    return str(message) if message is not None else error.code


class FigureForm(Form):
    """One task's figure: the township's corrected value and its reason (the compiled value is shown)."""

    task_id = HiddenField()
    corrected_value = IntegerField(
        _l("Corrected figure"), invalid_value_message=NOT_A_COUNT,
        validators=[Optional(), NumberRange(min=0, max=MAX_FIGURE, message=NOT_A_COUNT)],
    )
    correction_note = StringField(_l("Reason for the correction"), validators=[Optional(), Length(max=1000)])


class TownshipSummaryForm(FlaskForm):
    version = HiddenField()
    work_done = TextAreaField(_l("Work done"), validators=[Optional(), Length(max=NARRATIVE_LIMIT)])
    highlights = TextAreaField(_l("Highlights and good practice"), validators=[Optional(), Length(max=NARRATIVE_LIMIT)])
    problems = TextAreaField(_l("Problems found"), validators=[Optional(), Length(max=NARRATIVE_LIMIT)])
    next_steps = TextAreaField(_l("Next steps"), validators=[Optional(), Length(max=NARRATIVE_LIMIT)])
    figures = FieldList(FormField(FigureForm))

    def corrections(self) -> dict:
        """{task_id: (corrected value or None, note)} for the entries naming a task."""
        result = {}
        for entry in self.figures:
            try:
                task_id = int(entry.form.task_id.data)
            except (TypeError, ValueError):
                continue
            result[task_id] = (entry.form.corrected_value.data, entry.form.correction_note.data or "")
        return result


class ReturnForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField(_l("Reason for returning"), validators=[
        DataRequired(_l("Give the reason for returning the summary.")), Length(max=5000),
    ])


class ApproveForm(FlaskForm):
    version = HiddenField()
