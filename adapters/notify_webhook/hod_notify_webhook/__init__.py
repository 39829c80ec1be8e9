"""hod-core app notices as HMAC-SHA256-signed webhooks."""

from .sender import SIGNATURE_HEADER, SignedWebhook, WebhookConfig, event, sign

__all__ = ["SIGNATURE_HEADER", "SignedWebhook", "WebhookConfig", "event", "sign"]
