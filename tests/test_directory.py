"""Find Local Help (D1-D3) over the matcher's agents, and the rule file's [directory]."""

from __future__ import annotations

import pytest

from hod_core.errors import InputError, PolicyError
from hod_core.geo.distance import geodesic_km
from hod_core.geo.zips import locate
from hod_core.matching.local_help import KM_PER_MILE, Directory
from hod_core.matching.matcher import Matcher
from hod_core.rules.policy import default_policy_text, load_policy, parse_policy

from .conftest import MONDAY_10AM_HOUSTON, make_agent

AT = MONDAY_10AM_HOUSTON


def listed(page) -> list[str]:
    return [entry.npn for entry in page.listings]


@pytest.fixture
def directory(matcher):
    return Directory(matcher)


def test_d1_nearest_first_with_name_distance_phone_email_languages(matcher, directory):
    matcher.add(make_agent(npn="1", first_name="Far", zip="77494"))  # Katy, about 45 km
    matcher.add(make_agent(npn="2", first_name="Near", zip="77002", languages=["es"]))
    matcher.add(make_agent(npn="3", first_name="Mid", zip="77030"))
    page = directory.search("77002", AT, radius_miles=50)
    assert listed(page) == ["2", "3", "1"]
    near = page.listings[0]
    assert (near.name, near.phone, near.email, near.languages) == (
        "Near Doe",
        "+12222222222",
        "jane@example.com",
        ("es",),
    )
    assert near.distance_km == 0.0
    mid = page.listings[1]
    here, there = locate("77002"), locate("77030")
    exact = geodesic_km(here.lat, here.lon, there.lat, there.lon)
    assert mid.distance_km == round(exact, 3)  # the matcher's WGS84 geodesic distance
    assert mid.distance_miles == round(exact / KM_PER_MILE, 1)
    assert (page.state, page.total, page.radius_miles) == ("TX", 3, 50)


def test_d1_radius_limits_the_search(matcher, directory):
    matcher.add(make_agent(npn="1", zip="77030"))  # about 4.6 miles from 77002
    matcher.add(make_agent(npn="2", zip="75201"))  # Dallas, about 225 miles
    assert listed(directory.search("77002", AT, radius_miles=5)) == ["1"]
    assert listed(directory.search("77002", AT, radius_miles=100)) == ["1"]
    assert directory.search("77002", AT).radius_miles == 25  # the rule file's default


def test_d1_language_filter_and_any_language(matcher, directory):
    matcher.add(make_agent(npn="1", languages=["en"]))
    matcher.add(make_agent(npn="2", languages=["es", "vi"]))
    assert listed(directory.search("77030", AT, language="ES")) == ["2"]
    assert listed(directory.search("77030", AT, language="vi")) == ["2"]
    assert listed(directory.search("77030", AT)) == ["1", "2"]  # any language


def test_d2_street_address_only_for_display_option_1(matcher, directory):
    matcher.add(make_agent(npn="1", display_option=1, street_address="1 Main St"))
    matcher.add(make_agent(npn="2", display_option=2, street_address="2 Elm St"))
    by_npn = {e.npn: e for e in directory.search("77030", AT).listings}
    assert by_npn["1"].street_address == "1 Main St"
    assert by_npn["2"].street_address is None
    assert by_npn["2"].phone and by_npn["2"].email  # all but the street address


def test_d3_option_3_only_in_home_state_and_option_4_never(matcher, directory):
    # Texarkana straddles the TX/AR line: both agents hold licences in both states.
    both = ["TX", "AR"]
    matcher.add(make_agent(npn="3", display_option=3, zip="71854", home_state="AR", licensed=both))
    matcher.add(make_agent(npn="4", display_option=4, zip="75501", licensed=both))
    matcher.add(make_agent(npn="1", display_option=1, zip="71854", home_state="AR", licensed=both))
    in_texas = directory.search("75501", AT, radius_miles=25)
    in_arkansas = directory.search("71854", AT, radius_miles=25)
    assert (in_texas.state, in_arkansas.state) == ("TX", "AR")
    assert listed(in_texas) == ["1"]  # option 3 from Arkansas is not shown to Texas
    assert listed(in_arkansas) == ["1", "3"]  # at home it is; option 4 never
    assert "4" not in listed(directory.search("75501", AT, radius_miles=100))


def test_listed_only_where_the_agent_holds_a_valid_health_licence(matcher, directory):
    matcher.add(make_agent(npn="1", zip="71854", home_state="AR", licensed=["AR"]))
    matcher.add(make_agent(npn="2", zip="71854", home_state="AR", licensed=["AR", "TX"]))
    lapsed = {"state": "TX", "lines_of_authority": ["Health"], "expires_on": "2026-01-31"}
    matcher.add(make_agent(npn="3", zip="75501", licenses=[lapsed]))
    assert listed(directory.search("75501", AT, radius_miles=25)) == ["2"]


def test_rule_file_rules_apply_e1_by_default(matcher, directory):
    matcher.add(make_agent(npn="1", participation={"plan_year": 2025}))  # E1 fails
    matcher.add(make_agent(npn="2", suspended=True))  # E3 is not a directory rule by default
    assert listed(directory.search("77030", AT)) == ["2"]


def test_rule_file_can_hide_suspended_agents_and_break_ties_by_npn():
    text = default_policy_text().replace('rules = ["E1", "E5"]', 'rules = ["E1", "E3", "E5"]')
    text = text.replace('order = ["distance", "name", "npn"]', 'order = ["distance", "npn"]')
    matcher = Matcher(parse_policy(text, source="p.toml"))
    matcher.add(make_agent(npn="20", last_name="Able"))
    matcher.add(make_agent(npn="10", last_name="Zed"))
    matcher.add(make_agent(npn="30", suspended=True))
    assert listed(Directory(matcher).search("77030", AT)) == ["10", "20"]


def test_ties_at_one_distance_go_by_name_then_npn(matcher, directory):
    matcher.add(make_agent(npn="9", last_name="Zed"))
    matcher.add(make_agent(npn="12", last_name="Able", first_name="Bo"))
    matcher.add(make_agent(npn="11", last_name="Able", first_name="Bo"))
    matcher.add(make_agent(npn="5", last_name="Able", first_name="Al"))
    assert listed(directory.search("77030", AT)) == ["5", "11", "12", "9"]


def test_pages_hold_the_rule_files_page_size(directory, matcher):
    for n in range(1, 46):
        matcher.add(make_agent(npn=str(n)))
    first, last = directory.search("77030", AT), directory.search("77030", AT, page=3)
    assert (first.total, first.pages, len(first.listings), len(last.listings)) == (45, 3, 20, 5)
    assert directory.search("77030", AT, page=4).listings == ()


def test_agents_added_moved_or_removed_are_seen_by_the_next_search(matcher, directory):
    matcher.add(make_agent(npn="1"))
    assert listed(directory.search("77030", AT)) == ["1"]
    matcher.update(make_agent(npn="1", zip="75201"))  # moved to Dallas
    matcher.add(make_agent(npn="2"))
    assert listed(directory.search("77030", AT)) == ["2"]
    matcher.remove("2")
    assert listed(directory.search("77030", AT)) == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"zip_code": "7703"}, "zip"),
        ({"zip_code": "00000"}, "zip"),
        ({"zip_code": "09001"}, "zip"),  # military: no location
        ({"radius_miles": 0}, "radius"),
        ({"radius_miles": 101}, "radius"),
        ({"radius_miles": "25"}, "radius"),
        ({"language": "xx"}, "language"),
        ({"page": 0}, "page"),
    ],
)
def test_bad_search_input_names_the_field(directory, arguments, field):
    arguments = {"zip_code": "77030", **arguments}
    with pytest.raises(InputError) as caught:
        directory.search(arguments.pop("zip_code"), AT, **arguments)
    assert caught.value.field == field


def test_shipped_directory_policy():
    policy = load_policy().directory
    assert policy.radius_choices_miles == (5, 10, 25, 50, 100)
    assert (policy.default_radius_miles, policy.max_radius_miles, policy.page_size) == (25, 100, 20)
    assert policy.rules == ("E1", "E5")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("default_radius_miles = 25", "default_radius_miles = 30", "must be one of"),
        ("page_size = 20", "page_size = 0", "must be a whole number >= 1"),
        ('rules = ["E1", "E5"]', 'rules = ["E1", "E55"]', "unknown rule id(s) ['E55']"),
        ('order = ["distance", "name", "npn"]', 'order = ["name"]', '"distance" first'),
        ("page_size = 20", "page_size = 20\nsize = 3", "unknown key"),
        ("radius_choices_miles = [5, 10, 25, 50, 100]", "radius_choices_miles = []", "non-empty"),
    ],
)
def test_bad_directory_table_is_refused_with_its_line(old, new, expected):
    text = default_policy_text()
    assert old in text
    edited = text.replace(old, new)
    with pytest.raises(PolicyError) as caught:
        parse_policy(edited, source="p.toml")
    (problem,) = [p for p in caught.value.problems if expected in p.message]
    assert problem.field.startswith("directory")
    assert edited.splitlines()[problem.line - 1].split("=")[0].strip() in new


def test_a_rule_file_without_a_directory_table_gets_the_defaults():
    start = default_policy_text().index("[directory]")
    end = default_policy_text().index('rules = ["E1", "E5"]') + len('rules = ["E1", "E5"]')
    text = default_policy_text()[:start] + default_policy_text()[end:]
    assert parse_policy(text, source="p.toml").directory == load_policy().directory
