"""Form validators shared by the features."""
from flask_babel import gettext as _
from wtforms.validators import NumberRange as _NumberRange
from wtforms.validators import ValidationError


class NumberRange(_NumberRange):
    """wtforms' NumberRange, refusing a whole number too large for a float (``math.isnan`` raises
    OverflowError on "1" × 400 digits) instead of failing with a server error."""

    def __call__(self, form, field):
        try:
            super().__call__(form, field)
        except OverflowError:
            raise ValidationError(
                self.message or _("Enter a number between %(min)s and %(max)s.", min=self.min, max=self.max)
            ) from None
