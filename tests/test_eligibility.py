"""Eligibility E1-E12, one test per rule, through the real matcher and policy."""

from datetime import datetime

import pytest

from hod_core.matching.match_facts import OfferSnapshot
from hod_core.matching.matcher import Matcher

from .conftest import MONDAY_10AM_HOUSTON, make_agent, make_consumer, queue_npns


def excluded_by(policy, agent, consumer=None, at=MONDAY_10AM_HOUSTON, **kwargs):
    matcher = Matcher(policy, [agent])
    result = matcher.match(consumer or make_consumer(), at, explain=True, **kwargs)
    assert result.queue == () or result.excluded == {}
    return result.excluded.get(agent.npn)


def test_control_agent_is_eligible(policy):
    assert excluded_by(policy, make_agent()) is None


def test_e1_participation_for_another_plan_year_excludes(policy):
    assert excluded_by(policy, make_agent(participation={"plan_year": 2025})) == "E1"
    assert excluded_by(policy, make_agent(participation={"hod_training": False})) == "E1"
    assert excluded_by(policy, make_agent(participation={"npn_on_ffm_list": False})) == "E1"


def test_e2_terms_of_use_not_accepted_excludes(policy):
    assert excluded_by(policy, make_agent(participation={"terms_accepted": False})) == "E2"


def test_e3_suspended_account_excludes(policy):
    assert excluded_by(policy, make_agent(suspended=True)) == "E3"


def test_e4_display_option_4_excludes_everywhere(policy):
    assert excluded_by(policy, make_agent(display_option=4)) == "E4"


def test_e5_state_not_on_healthcare_gov_excludes(policy):
    # California runs its own exchange; the agent is licensed there all the same.
    agent = make_agent(licensed=["CA", "TX"])
    consumer = make_consumer(zip="90012", state="CA")
    assert excluded_by(policy, agent, consumer) == "E5"


def test_e5_oregon_is_healthcare_gov_in_2026(policy):
    agent = make_agent(zip="97201", home_state="OR", licensed=["OR"])
    consumer = make_consumer(zip="97204", state="OR")
    assert (
        excluded_by(policy, agent, consumer, at=datetime.fromisoformat("2026-11-23T10:00:00-08:00"))
        is None
    )


@pytest.mark.parametrize(
    "licence",
    [
        {
            "state": "FL",
            "lines_of_authority": ["Health"],
            "active": True,
            "expires_on": "2027-06-30",
        },
        {
            "state": "TX",
            "lines_of_authority": ["Life", "Property"],
            "active": True,
            "expires_on": "2027-06-30",
        },
        {
            "state": "TX",
            "lines_of_authority": ["Health"],
            "active": False,
            "expires_on": "2027-06-30",
        },
        {
            "state": "TX",
            "lines_of_authority": ["Health"],
            "active": True,
            "expires_on": "2026-11-22",
        },
    ],
    ids=["other-state", "no-health-line", "inactive", "expired"],
)
def test_e6_no_active_unexpired_health_licence_in_state_excludes(policy, licence):
    assert excluded_by(policy, make_agent(licenses=[licence])) == "E6"


@pytest.mark.parametrize(
    "line",
    [
        "Accident & Health",
        "Accident and Sickness",
        "Health",
        "Life, Accident & Health",
        "ACCIDENT AND HEALTH",
    ],
)
def test_e6_state_loa_names_that_count_as_health(policy, line):
    licence = {"state": "TX", "lines_of_authority": [line], "active": True, "expires_on": None}
    assert excluded_by(policy, make_agent(licenses=[licence])) is None


def test_e6_licence_valid_through_its_expiry_date_in_the_agents_zone(policy):
    licence = {
        "state": "TX",
        "lines_of_authority": ["Health"],
        "active": True,
        "expires_on": "2026-11-23",
    }
    agent = make_agent(licenses=[licence], availability={"weekly": {"mon": [["00:00", "24:00"]]}})
    late = datetime.fromisoformat("2026-11-23T23:30:00-06:00")  # already the 24th in UTC
    assert excluded_by(policy, agent, at=late) is None
    assert (
        excluded_by(policy, agent, at=datetime.fromisoformat("2026-11-24T00:30:00-06:00")) == "E6"
    )


def test_e7_display_option_3_only_in_home_state(policy):
    agent = make_agent(
        display_option=3,
        zip="33101",
        home_state="FL",
        licensed=["FL", "TX"],
        timezone="America/Chicago",
    )
    assert excluded_by(policy, agent) == "E7"
    assert excluded_by(policy, agent, make_consumer(zip="33130", state="FL")) is None


def test_e7_display_options_1_and_2_reach_every_licensed_state(policy):
    for option in (1, 2):
        agent = make_agent(
            display_option=option,
            zip="33101",
            home_state="FL",
            licensed=["FL", "TX"],
            timezone="America/Chicago",
        )
        assert excluded_by(policy, agent) is None


def test_e8_state_preferences_exclude_deselected_state(policy):
    agent = make_agent(licensed=["TX", "LA"], state_preferences=["LA"])
    assert excluded_by(policy, agent) == "E8"


def test_e8_preferences_do_not_apply_to_display_option_3(policy):
    """Seeds 000/004: only options 1 and 2 can narrow states; option 3 is home only."""
    agent = make_agent(display_option=3, licensed=["TX", "LA"], state_preferences=["LA"])
    assert excluded_by(policy, agent) is None  # Texas is home: E7 allows it, E8 does not apply


def test_e8_seed_example_all_licensed_states_but_wi(policy):
    """Seed 000/004: licensed in AK AL AR AZ UT WI WY, wants all but WI."""
    states = ["AK", "AL", "AR", "AZ", "UT", "WI", "WY"]
    agent = make_agent(
        zip="99501",
        home_state="AK",
        licensed=states,
        state_preferences=["AK", "AL", "AR", "AZ", "UT", "WY"],
        availability={"weekly": {d: [["00:00", "24:00"]] for d in ["mon", "tue"]}},
    )
    wisconsin = make_consumer(zip="53703", state="WI", language="en")
    assert excluded_by(policy, agent, wisconsin) == "E8"
    for state, zip_code in [
        ("AK", "99501"),
        ("AL", "35203"),
        ("AZ", "85004"),
        ("UT", "84101"),
        ("WY", "82001"),
    ]:
        consumer = make_consumer(zip=zip_code, state=state, language="en")
        assert excluded_by(policy, agent, consumer) is None, state
    texas = make_consumer(language="en")
    assert excluded_by(policy, agent, texas) == "E6"


def test_e9_language_not_spoken_excludes(policy):
    assert excluded_by(policy, make_agent(languages=["en"])) == "E9"
    assert (
        excluded_by(policy, make_agent(languages=["en", "vi"]), make_consumer(language="vi"))
        is None
    )


def test_e10_unavailable_now_excludes(policy):
    evening = datetime.fromisoformat("2026-11-23T19:00:00-06:00")
    assert excluded_by(policy, make_agent(), at=evening) == "E10"
    ooo = {"weekly": None, "out_of_office": [{"from": "2026-11-20T00:00:00-06:00", "to": None}]}
    assert excluded_by(policy, make_agent(availability=ooo)) == "E10"


def test_e11_agent_already_offered_this_referral_is_skipped(policy):
    agent = make_agent()
    assert excluded_by(policy, agent, offered=[agent.npn]) == "E11"
    assert excluded_by(policy, agent, offered=["999"]) is None


def test_e12_agent_holding_a_pending_offer_gets_no_other(policy):
    agent = make_agent()
    assert excluded_by(policy, agent, offers=OfferSnapshot(pending={agent.npn: 1})) == "E12"
    assert excluded_by(policy, agent, offers=OfferSnapshot(pending={agent.npn: 0})) is None


def test_first_failing_rule_is_reported_in_rule_order(policy):
    agent = make_agent(suspended=True, languages=["fr"], display_option=4)
    assert excluded_by(policy, agent) == "E3"


def test_consumer_state_is_derived_from_zip_when_omitted(policy):
    matcher = Matcher(policy, [make_agent()])
    assert queue_npns(matcher.match(make_consumer(state=None), MONDAY_10AM_HOUSTON)) == ["17294003"]
