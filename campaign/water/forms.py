from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, MultipleFileField
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..fieldforms.forms import idempotency_key_field
from ..validators import NumberRange
from .messages import DANGER_LABELS, KIND_LABELS

REQUIRED = _l("This field is required.")
NOT_A_DATE = _l("Enter a date as YYYY-MM-DD.")
NOT_A_TIME = _l("Enter a time as HH:MM.")
NOT_A_COUNT = _l("Enter a whole number, 0 or more.")
CHOOSE_VILLAGE = _l("Choose the village or community from the list.")
PHOTO_TYPES = ["jpg", "jpeg", "png", "webp", "heic", "heif", "gif"]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _count(label):
    return IntegerField(label, default=0, validators=[Optional(), NumberRange(min=0, message=NOT_A_COUNT)],
                        invalid_value_message=NOT_A_COUNT)


def photos_field(label):
    return MultipleFileField(label, validators=[FileAllowed(PHOTO_TYPES, _l("Choose photos (JPEG or PNG)."))])


class WaterPointForm(FlaskForm):
    unit_id = SelectField(_l("Village / community"), coerce=int, validators=[InputRequired(CHOOSE_VILLAGE)],
                          invalid_value_message=CHOOSE_VILLAGE, invalid_choice_message=CHOOSE_VILLAGE)
    name = StringField(_l("Name of the water"), validators=[InputRequired(REQUIRED), Length(max=120)],
                       filters=[_strip])
    kind = SelectField(_l("Kind of water"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    # Text, not FloatField: "nan" or "30,5" must reach the service to get a clear message.
    latitude = StringField(_l("Latitude (WGS-84)"), filters=[_strip])
    longitude = StringField(_l("Longitude (WGS-84)"), filters=[_strip])
    is_key = BooleanField(_l("Key water area (重点水域)"))
    danger_level = SelectField(_l("Danger level"), choices=[SelectChoice(k, v) for k, v in DANGER_LABELS.items()])
    has_permanent_sign = BooleanField(_l("Permanent warning sign put up"))
    sign_count = _count(_l("Number of warning signs"))
    life_buoys = _count(_l("Life buoys"))
    poles = _count(_l("Rescue poles"))
    ropes = _count(_l("Rescue ropes"))
    has_fence = BooleanField(_l("Fenced"))
    responsible_name = StringField(_l("Responsible person (safety informant)"), validators=[Length(max=60)],
                                   filters=[_strip])
    responsible_phone = StringField(_l("Phone of the responsible person"), validators=[Length(max=40)],
                                    filters=[_strip])
    patrol_interval_days = IntegerField(
        _l("Patrol every … days (empty: the default)"),
        validators=[Optional(), NumberRange(min=1, max=366, message=_l("Enter a number of days between 1 and 366."))],
        invalid_value_message=_l("Enter a number of days between 1 and 366."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Length(max=5000)], filters=[_strip])
    photos = photos_field(_l("Photos"))
    version = HiddenField()
    idempotency_key = idempotency_key_field()

    FIELDS = ("name", "kind", "latitude", "longitude", "is_key", "danger_level", "has_permanent_sign",
              "sign_count", "life_buoys", "poles", "ropes", "has_fence", "responsible_name",
              "responsible_phone", "notes", "patrol_interval_days")

    def point_fields(self) -> dict:
        return {name: getattr(self, name).data for name in self.FIELDS}


class PatrolForm(FlaskForm):
    patrol_date = DateField(_l("Date of the patrol"), validators=[InputRequired(REQUIRED)],
                            invalid_value_message=NOT_A_DATE)
    patrol_time = TimeField(_l("Time (Beijing time)"), validators=[InputRequired(REQUIRED)],
                            invalid_value_message=NOT_A_TIME)
    patroller_name = StringField(_l("Patrolled by"), validators=[InputRequired(REQUIRED), Length(max=60)],
                                 filters=[_strip])
    sign_intact = BooleanField(_l("Warning signs intact"), default=True)
    rescue_equipment_present = BooleanField(_l("Rescue equipment complete"), default=True)
    people_swimming = _count(_l("People seen swimming"))
    findings = TextAreaField(_l("Problems found and how they were handled"), validators=[Length(max=5000)],
                             filters=[_strip])
    photos = photos_field(_l("Photos"))
    idempotency_key = idempotency_key_field()


class HazardForm(FlaskForm):
    found_on = DateField(_l("Found on"), validators=[InputRequired(REQUIRED)], invalid_value_message=NOT_A_DATE)
    description = TextAreaField(_l("Hazard"), validators=[InputRequired(REQUIRED), Length(max=5000)],
                                filters=[_strip])
    rectify_by = DateField(_l("Rectify by"), validators=[InputRequired(REQUIRED)], invalid_value_message=NOT_A_DATE)
    owner_name = StringField(_l("Who must rectify it"), validators=[InputRequired(REQUIRED), Length(max=60)],
                             filters=[_strip])
    photos = photos_field(_l("Photos"))
    idempotency_key = idempotency_key_field()


class HazardStatusForm(FlaskForm):
    status = HiddenField()
    closing_note = TextAreaField(_l("How it was rectified"), validators=[Length(max=5000)], filters=[_strip])
    photos = photos_field(_l("Photos of the rectified place"))
    idempotency_key = idempotency_key_field()


class ConfirmForm(FlaskForm):
    pass


class WaterImportForm(FlaskForm):
    file = FileField(
        _l("Water point list (CSV or XLSX)"),
        validators=[FileRequired(REQUIRED), FileAllowed(["csv", "xlsx"], _l("Choose a CSV or XLSX file."))],
    )


class OfficialFormsForm(FlaskForm):
    """GET form: which official form, one sheet per village or per township, which patrol dates."""

    class Meta:
        csrf = False

    form = SelectField(_l("Form"), choices=[
        SelectChoice("register", _l("Key water area registration form (重点水域排查情况登记表)")),
        SelectChoice("patrols", _l("Water patrol record form (水域巡查记录表)")),
    ])
    group = SelectField(_l("Worksheets"), choices=[
        SelectChoice("village", _l("One sheet per village / community")),
        SelectChoice("township", _l("One sheet per township / street")),
    ])
    start = DateField(_l("Patrols from"), validators=[Optional()], invalid_value_message=NOT_A_DATE)
    end = DateField(_l("Patrols until"), validators=[Optional()], invalid_value_message=NOT_A_DATE)
