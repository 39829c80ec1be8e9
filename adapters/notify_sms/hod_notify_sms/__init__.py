"""hod-core text notifications over Twilio's Programmable Messaging API."""

from .sender import SmsConfig, TwilioSms

__all__ = ["SmsConfig", "TwilioSms"]
