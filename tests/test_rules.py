"""The rule file: loading, validation with lines, the CEL subset, compilation."""

from pathlib import Path

import pytest

from hod_core.errors import PolicyError
from hod_core.matching.matcher import Matcher
from hod_core.rules.policy import check_policy, default_policy_text, load_policy, parse_policy

from .conftest import MONDAY_10AM_HOUSTON, make_agent, make_consumer, queue_npns

DEFAULT = default_policy_text()


def edited(*replacements: tuple[str, str]) -> str:
    text = DEFAULT
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="p.toml")
    return [p.render() for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_default_policy_has_every_parameter_and_rule():
    policy = load_policy()
    assert [r.id for r in policy.rules] == [f"E{i}" for i in range(1, 13)]
    assert policy.plan_year == 2026
    assert policy.offer_window.total_seconds() == 15 * 60
    assert policy.contact_target.total_seconds() == 15 * 60
    assert policy.contact_deadline.total_seconds() == 30 * 60
    assert policy.missed_alert_lookback.days == 7
    assert policy.max_pending_offers_per_agent == 1
    assert (
        "OR" in policy.healthcare_gov_states[2026]
        and "OR" not in policy.healthcare_gov_states[2027]
    )
    assert len(policy.healthcare_gov_states[2026]) == 30
    assert set(policy.default_hours) == {"mon", "tue", "wed", "thu", "fri"}
    assert all(r.seed and r.description for r in policy.rules)


def test_rules_compile_into_index_keys_static_and_dynamic_parts():
    rules = {r.id: r for r in load_policy().rules}
    assert all(rules[i].static for i in ("E1", "E2", "E3", "E4"))
    assert rules["E5"].consumer is not None
    assert [k.field for k in rules["E6"].keys] == ["state"]
    assert [k.field for k in rules["E7"].keys] == ["state"]
    assert [k.field for k in rules["E9"].keys] == ["language"]
    assert all(rules[i].dynamic for i in ("E10", "E11", "E12"))


def test_every_error_is_reported_with_its_line_and_nothing_is_loaded():
    text = edited(
        ("max_pending_offers_per_agent = 1", "max_pending_offers_per_agent = 0"),
        ("consumer.language in agent.languages", "consumer.langauge in agent.languages"),
        ('condition = "agent.available"', 'condition = "agent.available &&"'),
    )
    found = problems(text)
    assert (
        f"p.toml:{line_of(text, 'max_pending_offers_per_agent = 0')}: policy.max_pending_offers_per_agent"
        in found[0]
    )
    assert any(
        f"p.toml:{line_of(text, 'consumer.langauge')}: rules.E9.condition: unknown fact consumer.langauge; did you mean consumer.language?"
        in p
        for p in found
    )
    assert any(
        f"p.toml:{line_of(text, 'agent.available &&')}: rules.E10.condition: syntax error" in p
        for p in found
    )
    assert len(found) == 3


def test_multiline_condition_errors_point_at_the_right_line():
    text = edited(
        ("  && agent.participation.npn_on_ffm_list", "  && agent.participation.npn_on_the_list")
    )
    (problem,) = problems(text)
    assert problem.startswith(
        f"p.toml:{line_of(text, 'npn_on_the_list')}: rules.E1.condition: unknown fact"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("!agent.suspended", "agent.suspended + 1", "cannot apply + to bool and int"),
        ("!agent.suspended", "agent.npn", "a condition must be true or false"),
        ("!agent.suspended", "agent.display_option == 'one'", "cannot compare int with string"),
        ("!agent.suspended", "eval('1')", "unknown function eval()"),
        ("!agent.suspended", "agent.languages.map(l, l)", "unknown method map()"),
        ("!agent.suspended", "nobody.x", "unknown name 'nobody'"),
        ("!agent.suspended", "policy.plan_yr == 1", "policy has no parameter 'plan_yr'"),
        ('id = "E3"', 'id = "E2"', "duplicate rule id"),
        ("plan_year = 2026", "plan_year = 2030", "no state list for plan_year 2030"),
        ("[policy.default_hours]", "[policy.default_hourz]", "missing table of default hours (A4)"),
        ('"WV",\n        "WY"]', '"WV",\n        "XX"]', "unknown state code(s): XX"),
        (
            'order = ["distance", "least_recently_offered", "npn"]',
            'order = ["npn", "distance"]',
            '"distance" must come first',
        ),
        (
            "offer_window_minutes = 15",
            "offer_window_minutes = 15\nofer_window = 3",
            "unknown parameter",
        ),
        (
            'seed = "002"\ncondition = "!agent.suspended"',
            'seed = "002"\nconditon = "!agent.suspended"',
            "unknown key",
        ),
    ],
)
def test_invalid_rule_files_are_refused(old, new, expected):
    assert any(expected in p for p in problems(edited((old, new))))


def test_broken_toml_reports_the_line():
    (problem,) = problems(DEFAULT.replace("[ranking]", "[ranking"))
    assert problem.startswith(f"p.toml:{line_of(DEFAULT, '[ranking]')}: not valid TOML")


def test_check_policy_on_files(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text(DEFAULT)
    assert check_policy(good) == []
    assert "cannot read" in check_policy(tmp_path / "missing.toml")[0].message


def test_policy_team_can_add_a_rule_without_python():
    # Only agents who speak the consumer's language *and* English.
    text = (
        DEFAULT + '\n[[rules]]\nid = "X1"\ndescription = "also speaks English"\nseed = "-"\n'
        "condition = \"agent.languages.exists(l, l == 'en') && size(agent.languages) >= 1\"\n"
    )
    policy = parse_policy(text, source="team.toml")
    matcher = Matcher(
        policy, [make_agent(npn="1", languages=["es"]), make_agent(npn="2", languages=["es", "en"])]
    )
    result = matcher.match(make_consumer(), MONDAY_10AM_HOUSTON, explain=True)
    assert queue_npns(result) == ["2"]
    assert result.excluded == {"1": "X1"}


def test_editing_a_parameter_changes_behaviour():
    text = edited(("plan_year = 2026", "plan_year = 2027"))
    policy = parse_policy(text, source="2027.toml")
    oregon = make_consumer(zip="97204", state="OR")
    agent = make_agent(
        zip="97201", home_state="OR", licensed=["OR"], participation={"plan_year": 2027}
    )
    result = Matcher(policy, [agent]).match(oregon, MONDAY_10AM_HOUSTON, explain=True)
    assert result.excluded == {agent.npn: "E5"}  # Oregon left HealthCare.gov for 2027


def test_shipped_file_is_the_package_default():
    assert Path(load_policy().source).name.startswith("default.toml")
