from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional


class AuditFilterForm(FlaskForm):
    """A GET filter form: no CSRF token needed, it changes nothing."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), choices=[], validators=[Optional()])
    entity_type = StringField(_l("Record type"), validators=[Optional(), Length(max=40)])
    entity_id = StringField(_l("Record number"), validators=[Optional(), Length(max=40)])
    username = StringField(_l("User"), validators=[Optional(), Length(max=64)])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
