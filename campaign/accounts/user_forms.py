"""Forms of user management; the role and unit choices are filled per actor by the view."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..i18n import ROLE_LABELS

PASSWORD_HINT = _l("At least 8 characters, with letters and digits.")


class UserForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    unit_id = SelectField(_l("Unit"), choices=[], validate_choice=True)
    unit_code = StringField(
        _l("or the unit's division code"), validators=[Optional(), Length(max=12)]
    )
    active = BooleanField(_l("Active (may log in)"), default=True)

    def fill_choices(self, roles, units, blank_label):
        self.role.choices = [(role, str(ROLE_LABELS[role])) for role in roles]
        self.unit_id.choices = [("", blank_label)] + [(str(unit.id), label) for unit, label in units]


class NewUserForm(UserForm):
    active = None  # a new user is active
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two new passwords differ."))],
    )


class ImportUsersForm(FlaskForm):
    file = FileField(
        _l("XLSX or CSV file"),
        validators=[FileRequired(), FileAllowed(["xlsx", "csv", "txt"], _l("Choose an XLSX or CSV file."))],
    )
