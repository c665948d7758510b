from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from .services import MAX_NAME_LENGTH


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[
        InputRequired(_l("Give the token a name, e.g. the device or program that will use it.")),
        Length(max=MAX_NAME_LENGTH),
    ])


class ConfirmForm(FlaskForm):
    pass
