from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import FloatField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..i18n import UNIT_CATEGORY_LABELS, UNIT_KIND_LABELS
from ..validators import NumberRange


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class UnitForm(FlaskForm):
    name = StringField(_l("Unit name"), validators=[DataRequired(), Length(max=120)], filters=[_strip])
    kind = SelectField(_l("Type"), choices=[SelectChoice(kind, label) for kind, label in UNIT_KIND_LABELS.items()])
    code = StringField(
        _l("Division code"),
        validators=[Optional(), Regexp(r"^\d{12}$", message=_l("A division code has exactly 12 digits."))],
        filters=[_strip],
    )
    parent_id = SelectField(_l("Parent unit"), coerce=int)
    category = SelectField(
        _l("Category"),
        choices=[SelectChoice("", "—")] + [SelectChoice(code, label) for code, label in UNIT_CATEGORY_LABELS.items()],
        validators=[Optional()],
        invalid_choice_message=_l("Choose a category from the list."),
    )
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=60)], filters=[_strip])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], filters=[_strip])
    households = IntegerField(_l("Households"), validators=[Optional(), NumberRange(min=0)])
    students = IntegerField(_l("Students"), validators=[Optional(), NumberRange(min=0)])
    latitude = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(min=-90, max=90)])
    longitude = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(min=-180, max=180)])

    def keep_category(self, category):
        """A category outside the list (from an import) stays choosable, so saving keeps it."""
        if category and category not in UNIT_CATEGORY_LABELS:
            self.category.choices = [*self.category.choices, SelectChoice(category, category)]

    def unit_fields(self) -> dict:
        names = ("name", "kind", "code", "category", "contact_name", "phone", "households", "students",
                 "latitude", "longitude")
        return {name: getattr(self, name).data for name in names}


class UnitImportForm(FlaskForm):
    file = FileField(
        _l("Unit list (CSV or XLSX)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Choose a CSV or XLSX file."))],
    )
