"""hod-core app notices as Standard Webhooks (HMAC-SHA256 signed JSON events)."""

from .sender import SignedWebhook, WebhookConfig, event, new_signing_secret, sign, signing_key

__all__ = ["SignedWebhook", "WebhookConfig", "event", "new_signing_secret", "sign", "signing_key"]
