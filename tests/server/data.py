"""Requests the server's tests send."""

ANA = {
    "first_name": "Ana",
    "last_name": "Ruiz",
    "phone": "+17135550100",
    "email": "ana.ruiz@example.com",
    "zip": "77002",
    "language": "es",
}
CONTACT_VALUES = ("Ana", "Ruiz", "7135550100", "ana.ruiz@example.com")


def no_contact_data(text: str) -> bool:
    """True when none of Ana's name, phone or email appears in `text` (P1)."""
    return not any(value in text for value in CONTACT_VALUES)
