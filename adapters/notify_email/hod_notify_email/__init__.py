"""hod-core offer notices by email (SMTP with STARTTLS or TLS, and AUTH)."""

from .sender import EmailConfig, SmtpEmail

__all__ = ["EmailConfig", "SmtpEmail"]
