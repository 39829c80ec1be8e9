"""The sign-up form (seed 001's "Get Started by Creating a Profile") and its
checks, all at once: every missing field (R2) and every broken password rule
(R3) is named in one answer, in English and Spanish, so the page can mark
them all. Name and email are not on the form: they come from the imported
record, read-only (R2).
"""

from __future__ import annotations

import re

from attrs import frozen

from hod_core.domain import validate
from hod_core.domain.models import ContactMethod
from hod_core.errors import HodError, InputError
from hod_core.geo import zips
from hod_core.server.accounts.passwords import control_characters, failed_rules

USERNAME = re.compile(r"[a-z0-9][a-z0-9._@+-]{2,63}")


@frozen
class RegistrationForm:
    """What the agent types (R2, R3) and ticks (R5)."""

    username: str = ""
    password: str = ""
    password_confirm: str = ""
    phone: str = ""  # a mobile number: texts go to it (seed 001)
    contact_method: str = ""  # one of ContactMethod.allowed()
    zip: str = ""
    hod_terms_of_use: bool = False
    agent_broker_terms_of_use: bool = False


@frozen
class Problem:
    field: str
    rule: str  # R2, R3
    message: str
    message_es: str
    id: str = ""  # the R3 rule's id (passwords.RULES), for a page's checklist

    def as_dict(self) -> dict:
        d = {"field": self.field, "rule": self.rule, "message": self.message}
        return d | {"message_es": self.message_es} | ({"id": self.id} if self.id else {})


class RegistrationInvalid(HodError):
    """The form's problems, every one of them (422)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


REQUIRED = ("Required", "Obligatorio")


def check_registration(form: RegistrationForm) -> dict:
    """The normalised fields (user name lower-cased, phone in E.164, the contact
    method as a `ContactMethod`), or `RegistrationInvalid` with every problem."""
    fields = {"username": form.username.strip().lower()}
    problems = username_problems(fields["username"])
    for name, check in (("phone", validate.phone), ("zip", _placed_zip)):
        value = getattr(form, name).strip()
        if not value:
            problems.append(Problem(name, "R2", *REQUIRED))
            continue
        try:
            fields[name] = check(value)
        except InputError as exc:
            problems.append(Problem(name, "R2", exc.message, _spanish(name)))
    try:
        fields["contact_method"] = ContactMethod(form.contact_method)
    except ValueError:
        choices = ", ".join(ContactMethod.allowed())
        problems.append(
            Problem(
                "contact_method",
                "R2",
                f"choose one of {choices}",
                f"elija uno de {choices}",
            )
        )
    problems += password_problems(form.password, form.password_confirm)
    if problems:
        raise RegistrationInvalid(problems)
    return fields


def _placed_zip(value: str) -> str:
    """A ZIP the matcher can place: known, located, in a time zone (A1-A4 need one)."""
    value = validate.zip_code(value)
    if zips.locate(value).zone is None:
        raise InputError(f"ZIP {value} has no time zone in the shipped ZIP data", field="zip")
    return value


def username_problems(username: str) -> list[Problem]:
    if not username:
        return [Problem("username", "R2", *REQUIRED)]
    if not USERNAME.fullmatch(username):
        return [
            Problem(
                "username",
                "R2",
                "3 to 64 letters, digits or . _ @ + -, starting with a letter or digit",
                "De 3 a 64 letras, dígitos o . _ @ + -, empezando por una letra o un dígito",
            )
        ]
    return []


def check_username(username: str) -> str:
    """The user name as kept (lower-cased), or RegistrationInvalid."""
    username = username.strip().lower()
    problems = username_problems(username)
    if problems:
        raise RegistrationInvalid(problems)
    return username


def _spanish(name: str) -> str:
    return {
        "phone": "No es un número de teléfono móvil válido",
        "zip": "No es un código postal conocido",
    }[name]


def password_problems(password: str, confirm: str) -> list[Problem]:
    """Every broken R3 rule, then a confirmation that differs."""
    problems = [
        Problem("password", "R3", rule.en, rule.es, id=rule.id) for rule in failed_rules(password)
    ]
    if control_characters(password):
        problems.append(
            Problem(
                "password",
                "P3",
                "Contains no control characters",
                "No contiene caracteres de control",
                id="control",
            )
        )
    if password != confirm:
        problems.append(
            Problem(
                "password_confirm",
                "R3",
                "The passwords do not match",
                "Las contraseñas no coinciden",
            )
        )
    return problems


def check_password(password: str, confirm: str) -> None:
    problems = password_problems(password, confirm)
    if problems:
        raise RegistrationInvalid(problems)
