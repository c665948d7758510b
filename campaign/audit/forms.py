from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional


class AuditFilterForm(FlaskForm):
    """A GET filter form: no CSRF token needed, it changes nothing. The action and record-kind
    choices are the words of the audit vocabulary (see ``audit.labels``)."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), choices=[], validators=[Optional()])
    entity_type = SelectField(_l("Record type"), choices=[], validators=[Optional()])
    entity_id = StringField(_l("Record number"), validators=[Optional(), Length(max=40)])
    username = StringField(_l("User"), validators=[Optional(), Length(max=64)])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
