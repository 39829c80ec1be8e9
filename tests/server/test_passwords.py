"""R3: every password rule, named in English and Spanish; argon2id hashes."""

from __future__ import annotations

import argon2
import pytest

from hod_core.server.accounts.passwords import RULES, TEST_PARAMETERS, Passwords, failed_rules

GOOD = "Sunny-Day42"


def failed(password: str) -> list[str]:
    return [rule.id for rule in failed_rules(password)]


def test_a_password_that_keeps_every_rule_fails_none():
    assert failed(GOOD) == []
    assert failed("aB3$ekgz") == []  # 8 characters
    assert failed("aB3$ekgz" + "x1Y2z3W4Q5V6") == []  # 20 characters


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Sunny Day42!", "no_spaces"),
        ("Sunny\tDay42!", "no_spaces"),
        ("Sun-D4y", "length"),  # 7
        ("Sunny-Day42-Sunny-Da1", "length"),  # 21
        ("Sunny-Day-Forty", "digit"),
        ("SUNNY-DAY42", "lower"),
        ("sunny-day42", "upper"),
        ("SunnyDay42", "special"),
        ("Suuuun-Day42", "repeats"),  # four u's
        ("Sunny-Day1234", "sequence"),
        ("Sunny-Day4321", "sequence"),
        ("Abcd-Sunny42", "sequence"),
        ("Sunny-DCBA-42", "sequence"),  # descending, case folded
    ],
)
def test_each_rule_is_named_when_broken(password, rule):
    assert failed(password) == [rule]


def test_three_in_a_row_is_allowed_four_is_not():
    assert failed("Suuun-Day42") == []  # three identical
    assert failed("Sunny-Day123") == []  # three sequential
    assert failed("Sunny-Day1235") == []  # the run breaks
    assert "sequence" not in failed("Sunny-Day9:;<")  # not letters or digits


def test_every_broken_rule_is_listed_in_the_checklist_order():
    assert failed("") == ["length", "digit", "lower", "upper", "special"]
    assert failed("aaaa bbbb") == ["no_spaces", "digit", "upper", "special", "repeats"]


def test_rules_read_as_the_seed_page_in_english_and_spanish():
    texts = {rule.id: (rule.en, rule.es) for rule in RULES}
    assert texts["length"] == ("Contains 8 to 20 characters", "Contiene de 8 a 20 caracteres")
    assert texts["repeats"][0] == "Contains no more than three repetitive characters"
    assert texts["sequence"][1] == "No contiene más de tres caracteres secuenciales"
    assert len(RULES) == 8


def test_hashes_are_argon2id_and_verify_only_the_right_password():
    passwords = Passwords(TEST_PARAMETERS)
    hashed = passwords.hash(GOOD)
    assert hashed.startswith("$argon2id$") and GOOD not in hashed
    assert passwords.verify(hashed, GOOD)
    assert not passwords.verify(hashed, GOOD.lower())
    assert not passwords.verify(None, GOOD)  # no account: the decoy, never True
    assert not passwords.verify("not a hash", GOOD)


def test_the_default_cost_is_rfc_9106s_and_cheaper_hashes_are_upgraded():
    default = Passwords()
    params = argon2.extract_parameters(default.hash(GOOD))
    assert (params.type, params.memory_cost, params.time_cost) == (argon2.Type.ID, 65536, 3)
    cheap = Passwords(TEST_PARAMETERS).hash(GOOD)
    assert default.needs_rehash(cheap)
