from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from ..fieldforms.forms import idempotency_key_field
from ..validators import NumberRange
from .services import MAX_NOTE_LENGTH, MAX_QUANTITY, MAX_REASON_LENGTH

REQUIRED = _l("This field is required.")
NOT_A_DATE = _l("Enter the date as YYYY-MM-DD.")
NOT_A_DATETIME = _l("Enter a date and a time.")
NOT_A_COUNT = _l("Enter the quantity as a whole number, 0 or more.")
REASON_REQUIRED = _l("Give the reason.")
STALE_FORM = _l("The page was out of date; reload it and try again.")


class VersionedForm(FlaskForm):
    """Every write names the report version the user was looking at."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(STALE_FORM)],
                           invalid_value_message=STALE_FORM)


class ReportForm(VersionedForm):
    """The one-pass report: a figure to add (or done), the note, photos and documents, then save or submit.
    The idempotency key makes a resent form count once (rendered fresh, so it works without JavaScript)."""

    idempotency_key = idempotency_key_field()
    done = BooleanField(_l("Done"))
    quantity = IntegerField(_l("Quantity to add"), validators=[Optional(), NumberRange(min=0, max=MAX_QUANTITY,
                                                                                        message=NOT_A_COUNT)],
                            invalid_value_message=NOT_A_COUNT)
    reported_on = DateField(_l("Date"), validators=[Optional()], invalid_value_message=NOT_A_DATE)
    place = StringField(_l("Where / what (optional)"), validators=[Optional(), Length(max=200)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_NOTE_LENGTH)])
    photos = MultipleFileField(_l("Take photos"))
    documents = MultipleFileField(_l("Choose photos or documents (PDF, Word, Excel)"))
    save = SubmitField(_l("Save draft"))
    submit = SubmitField(_l("Submit"))

    def validate_reported_on(self, field):
        if self.quantity.data is not None and field.data is None:
            raise ValidationError(NOT_A_DATE)


class InstalmentForm(FlaskForm):
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(NOT_A_COUNT),
                                                        NumberRange(min=0, max=MAX_QUANTITY, message=NOT_A_COUNT)],
                            invalid_value_message=NOT_A_COUNT)
    reported_on = DateField(_l("Date"), validators=[InputRequired(NOT_A_DATE)], invalid_value_message=NOT_A_DATE)
    place = StringField(_l("Where / what (optional)"), validators=[Optional(), Length(max=200)])
    idempotency_key = idempotency_key_field()


class EvidenceForm(FlaskForm):
    idempotency_key = idempotency_key_field()
    photos = MultipleFileField(_l("Take photos"))
    documents = MultipleFileField(_l("Choose photos or documents (PDF, Word, Excel)"))


class ConfirmForm(FlaskForm):
    pass


class ApproveForm(VersionedForm):
    pass


class ReturnForm(VersionedForm):
    reason = TextAreaField(_l("Reason for return"), validators=[InputRequired(REASON_REQUIRED),
                                                               Length(max=MAX_REASON_LENGTH)])


class LockExceptionForm(FlaskForm):
    unit_id = SelectField(_l("Unit"), coerce=int, validators=[InputRequired(REQUIRED)],
                          invalid_choice_message=_l("Choose the unit from the list."),
                          invalid_value_message=_l("Choose the unit from the list."))
    until = DateTimeLocalField(_l("Open until (Beijing time)"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                               validators=[InputRequired(NOT_A_DATETIME)], invalid_value_message=NOT_A_DATETIME)
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(REASON_REQUIRED), Length(max=MAX_REASON_LENGTH)])
