from uuid import uuid4

from wtforms import HiddenField


def new_idempotency_key() -> str:
    return uuid4().hex


def idempotency_key_field():
    """Rendered fresh with each form, so a resent form counts once even without JavaScript."""
    return HiddenField(default=new_idempotency_key)
