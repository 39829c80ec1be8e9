"""Passwords: the rules of R3, checked all at once, and argon2id hashes.

Every failed rule is named, with the sign-up page's own wording in English
and Spanish (seed 001), so a page can tick them off as the agent types and
the API's 422 lists them all, not just the first. A password is kept only
as its argon2id hash (RFC 9106's second recommended set of parameters, as
argon2-cffi ships them: 64 MiB, 3 passes, 4 lanes).
"""

from __future__ import annotations

import unicodedata

import argon2
from attrs import frozen

MIN_LENGTH, MAX_LENGTH = 8, 20
RUN = 3  # "no more than three": a run of four identical or sequential characters fails


@frozen
class PasswordRule:
    id: str
    en: str
    es: str


# R3, in the order of the sign-up page's checklist (seed 001).
RULES = (
    PasswordRule("no_spaces", "Does not contain spaces", "No contiene espacios"),
    PasswordRule(
        "length",
        f"Contains {MIN_LENGTH} to {MAX_LENGTH} characters",
        f"Contiene de {MIN_LENGTH} a {MAX_LENGTH} caracteres",
    ),
    PasswordRule("digit", "Contains at least one number", "Contiene al menos un número"),
    PasswordRule(
        "lower",
        "Contains at least one lower case letter",
        "Contiene al menos una letra minúscula",
    ),
    PasswordRule(
        "upper",
        "Contains at least one upper case letter",
        "Contiene al menos una letra mayúscula",
    ),
    PasswordRule(
        "special",
        "Contains at least one special character",
        "Contiene al menos un carácter especial",
    ),
    PasswordRule(
        "repeats",
        "Contains no more than three repetitive characters",
        "No contiene más de tres caracteres repetidos",
    ),
    PasswordRule(
        "sequence",
        "Contains no more than three sequential characters",
        "No contiene más de tres caracteres secuenciales",
    ),
)
RULE_BY_ID = {rule.id: rule for rule in RULES}


def failed_rules(password: str) -> list[PasswordRule]:
    """Every R3 rule `password` breaks, in the checklist's order (empty: it is good)."""
    checks = {
        "no_spaces": not any(ch.isspace() for ch in password),
        "length": MIN_LENGTH <= len(password) <= MAX_LENGTH,
        "digit": any(ch.isdigit() for ch in password),
        "lower": any(ch.islower() for ch in password),
        "upper": any(ch.isupper() for ch in password),
        "special": any(_special(ch) for ch in password),
        "repeats": not _has_run(password, _same),
        "sequence": not _has_run(password.lower(), _next_up)
        and not _has_run(password.lower(), _next_down),
    }
    return [rule for rule in RULES if not checks[rule.id]]


def _special(ch: str) -> bool:
    """Anything printable that is not a letter, a digit or a space: !, #, ñ's neighbours..."""
    return not ch.isalnum() and not ch.isspace() and unicodedata.category(ch)[0] in "PS"


def _same(a: str, b: str) -> bool:
    return a == b


def _next_up(a: str, b: str) -> bool:
    """b follows a in the alphabet or among the digits: ab, 12 (case already folded)."""
    return _kind(a) is not None and _kind(a) == _kind(b) and ord(b) == ord(a) + 1


def _next_down(a: str, b: str) -> bool:
    return _next_up(b, a)


def _kind(ch: str) -> str | None:
    if "a" <= ch <= "z":
        return "letter"
    if "0" <= ch <= "9":
        return "digit"
    return None


def _has_run(text: str, step) -> bool:
    """Whether `RUN + 1` characters in a row each `step` from the one before."""
    run = 1
    for a, b in zip(text, text[1:], strict=False):
        run = run + 1 if step(a, b) else 1
        if run > RUN:
            return True
    return False


def control_characters(password: str) -> bool:
    """P3: control and format characters (bidi overrides, NUL) are refused outright."""
    return any(unicodedata.category(ch) in ("Cc", "Cf") and not ch.isspace() for ch in password)


class Passwords:
    """argon2id hashing; tests pass cheaper `params` (still argon2id) to stay fast."""

    def __init__(self, params: argon2.Parameters | None = None):
        self._hasher = (
            argon2.PasswordHasher.from_parameters(params) if params else argon2.PasswordHasher()
        )
        # Verified when the login is unknown, so a wrong name costs what a wrong password does.
        self._decoy = self._hasher.hash("not a password of anyone")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._decoy, password) and bool(
                password_hash
            )
        except argon2.exceptions.VerificationError:
            return False
        except argon2.exceptions.InvalidHashError:
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


# Fast argon2id for tests: the same algorithm with 1 pass over 1 MiB.
TEST_PARAMETERS = argon2.Parameters(
    type=argon2.Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=1,
    memory_cost=1024,
    parallelism=1,
)
