"""How a reminder leaves the building: the outbox (log only), e-mail over SMTP, or an SMS gateway over HTTP.

A sender takes one OutboxMessage and either returns or raises DeliveryError; the caller records
the outcome on the row. Chosen by the REMINDER_CHANNEL setting.
"""
import json
import logging
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage

from flask import current_app

from .models import Channel

log = logging.getLogger("campaign.reminders")


class DeliveryError(Exception):
    """The message could not be delivered this time; the text goes to last_error."""


class OutboxSender:
    """The default: the row itself is the message, and a log line says it was 'sent'."""

    channel = Channel.OUTBOX.value

    def address_of(self, user) -> str:
        return user.phone or user.email or ""

    def missing_address_error(self, user) -> str:
        return ""

    def send(self, message):
        log.info("reminder %s to %s (%s): %s", message.dedup_key, message.address or "-",
                 message.user_id or "-", message.body)


class EmailSender:
    channel = Channel.EMAIL.value

    def __init__(self, config):
        self.host = config.get("SMTP_HOST", "localhost")
        self.port = int(config.get("SMTP_PORT", 25))
        self.user = config.get("SMTP_USER") or ""
        self.password = config.get("SMTP_PASSWORD") or ""
        self.starttls = _flag(config.get("SMTP_STARTTLS", False))
        self.sender = config.get("MAIL_FROM") or "campaign-desk@localhost"
        self.timeout = float(config.get("REMINDER_SEND_TIMEOUT", 15))

    def address_of(self, user) -> str:
        return (user.email or "").strip()

    def missing_address_error(self, user) -> str:
        return f"user {user.username} has no e-mail address"

    def send(self, message):
        if not message.address:
            raise DeliveryError("no e-mail address")
        mail = EmailMessage()
        mail["Subject"] = message.subject or message.body[:40]
        mail["From"] = self.sender
        mail["To"] = message.address
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {error}") from error
        log.info("reminder %s e-mailed to %s", message.dedup_key, message.address)


class SmsSender:
    """POSTs SMS_TEMPLATE (JSON with {phone} and {text} placeholders) to SMS_GATEWAY_URL."""

    channel = Channel.SMS.value

    def __init__(self, config):
        self.url = config.get("SMS_GATEWAY_URL") or ""
        self.token = config.get("SMS_GATEWAY_TOKEN") or ""
        self.token_header = config.get("SMS_GATEWAY_TOKEN_HEADER") or "Authorization"
        self.template = config.get("SMS_TEMPLATE") or '{"phone": "{phone}", "text": "{text}"}'
        self.timeout = float(config.get("REMINDER_SEND_TIMEOUT", 15))

    def address_of(self, user) -> str:
        return (user.phone or "").strip()

    def missing_address_error(self, user) -> str:
        return f"user {user.username} has no phone number"

    def body_for(self, phone: str, text: str) -> bytes:
        body = self.template.replace("{phone}", _json_inner(phone)).replace("{text}", _json_inner(text))
        json.loads(body)  # a broken template fails here, not at the gateway
        return body.encode("utf-8")

    def send(self, message):
        if not message.address:
            raise DeliveryError("no phone number")
        if not self.url:
            raise DeliveryError("SMS_GATEWAY_URL is not set")
        try:
            data = self.body_for(message.address, message.body)
        except ValueError as error:
            raise DeliveryError(f"SMS_TEMPLATE is not valid JSON: {error}") from error
        request = urllib.request.Request(self.url, data=data, method="POST")
        request.add_header("Content-Type", "application/json; charset=utf-8")
        if self.token:
            value = f"Bearer {self.token}" if self.token_header.lower() == "authorization" else self.token
            request.add_header(self.token_header, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            detail = error.read(300).decode("utf-8", "replace")
            raise DeliveryError(f"SMS gateway answered {error.code}: {detail}") from error
        except (OSError, urllib.error.URLError) as error:
            raise DeliveryError(f"SMS gateway unreachable: {error}") from error
        log.info("reminder %s sent by SMS to %s", message.dedup_key, message.address)


def _json_inner(value: str) -> str:
    """The value as JSON string content (quotes, backslashes, control characters escaped)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def channel_name(config=None) -> str:
    config = config if config is not None else current_app.config
    name = (config.get("REMINDER_CHANNEL") or Channel.OUTBOX.value).strip().lower()
    if name not in {channel.value for channel in Channel}:
        raise ValueError(f"REMINDER_CHANNEL must be outbox, email or sms, not {name!r}")
    return name


def sender_for(channel: str, config=None):
    config = config if config is not None else current_app.config
    if channel == Channel.EMAIL.value:
        return EmailSender(config)
    if channel == Channel.SMS.value:
        return SmsSender(config)
    return OutboxSender()
