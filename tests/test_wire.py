"""The JSON wire format: shapes both ways, and errors that name the field."""

import json

import pytest

from hod_core import wire
from hod_core.domain.models import Agent, Consumer, ContactMethod, DisplayOption
from hod_core.errors import InputError

from .conftest import BASE_AGENT, agent_data, make_agent, make_consumer


def test_spec_example_agent_round_trips():
    agent = make_agent(
        availability={
            "weekly": {"mon": [["08:00", "17:00"]], "tue": [["08:00", "17:00"]]},
            "breaks": [{"days": ["mon", "tue"], "start": "12:00", "end": "12:30"}],
            "today": {
                "date": "2026-11-23",
                "on": True,
                "since": "2026-11-23T18:00:00-05:00",
                "until": "2026-11-23T21:00:00-05:00",
            },
            "out_of_office": [{"from": "2026-12-24T00:00:00-05:00", "to": None}],
        }
    )
    assert agent.display_option is DisplayOption.ALL_LICENSED_STATES
    assert agent.contact_method is ContactMethod.EMAIL_TEXT_APP
    assert agent.availability.weekly["mon"][0].start == 8 * 60
    again = wire.structure(json.loads(json.dumps(wire.unstructure(agent))), Agent)
    assert again == agent


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda a: a["availability"].update(weekly={"mon": [["08:00", "07:00"]]}),
            "availability.weekly.mon[0]: end 07:00 is before start 08:00",
        ),
        (lambda a: a.update(npn="12ab"), "npn: NPN must be 1 to 10 digits"),
        (lambda a: a.update(npn="12345678901"), "npn: NPN must be 1 to 10 digits"),
        (lambda a: a.update(npn=17294003), "npn: expected a string"),
        (lambda a: a.update(zip="7703"), "zip: ZIP must be 5 digits"),
        (lambda a: a.update(home_state="XX"), 'home_state: unknown state code "XX"'),
        (lambda a: a.update(languages=["en", "klingon"]), "languages[1]: unknown language code"),
        (lambda a: a.update(languages=[]), "languages: at least one language"),
        (lambda a: a.update(phone="555-12"), "phone: not a phone number"),
        (lambda a: a.update(timezone="America/Houston"), "timezone: unknown IANA time zone"),
        (lambda a: a.update(contact_method="fax"), "contact_method: contact method must be one of"),
        (
            lambda a: a.update(display_option=5),
            "display_option: display option must be one of 1, 2, 3, 4",
        ),
        (
            lambda a: a["licenses"][0].update(expires_on="2027-02-30"),
            "licenses[0].expires_on: not a date",
        ),
        (lambda a: a["licenses"][0].update(state="ZZ"), "licenses[0].state: unknown state code"),
        (
            lambda a: a["participation"].update(terms_accepted="yes"),
            "participation.terms_accepted: expected true or false",
        ),
        (
            lambda a: a["participation"].update(plan_year="2026"),
            "participation.plan_year: expected a whole number",
        ),
        (
            lambda a: a.update(state_preferences=["TX", "Texas"]),
            "state_preferences[1]: unknown state code",
        ),
        (
            lambda a: a["availability"].update(weekly={"monday": []}),
            'availability.weekly: unknown weekday "monday"',
        ),
        (
            lambda a: a["availability"].update(breaks=[{"start": "12:00", "end": "25:00"}]),
            "availability.breaks[0].end: not a local time",
        ),
        (
            lambda a: a["availability"].update(
                out_of_office=[{"from": "2026-12-24T00:00:00", "to": None}]
            ),
            "availability.out_of_office[0].from: date-time needs a UTC offset",
        ),
        (
            lambda a: a["availability"].update(today={"date": "2026-11-23", "on": "yes"}),
            "availability.today.on: expected true or false",
        ),
        (lambda a: a.update(langauges=["en"]), "unknown field(s): langauges"),
        (lambda a: a.pop("zip"), "zip: required field missing"),
        (lambda a: a.update(languages="en"), 'languages: expected a list, got "en"'),
        (lambda a: a.update(last_name="  "), "last_name: a name must not be empty"),
        (
            lambda a: a["licenses"][0].update(lines_of_authority="Health"),
            'licenses[0].lines_of_authority: expected a list, got "Health"',
        ),
        (lambda a: a.update(licenses=None), "licenses: expected a list, got null"),
        (lambda a: a.update(availability=None), "availability: must not be null"),
        (
            lambda a: a["availability"].update(weekly=[1]),
            "availability.weekly: wrong kind of value: [1]",
        ),
    ],
)
def test_bad_agent_field_is_named_with_file_and_line(change, expected):
    data = agent_data()
    change(data)
    with pytest.raises(InputError) as caught:
        wire.structure(data, Agent, source="agents.jsonl", line=17)
    message = str(caught.value)
    assert message.startswith("agents.jsonl:17: ")
    assert expected in message


def test_us_phone_numbers_are_normalised_to_e164():
    for written in ["(713) 555-0100", "713.555.0100", "1-713-555-0100", "+1 713 555 0100"]:
        assert make_consumer(phone=written).phone == "+17135550100"
    assert make_consumer(phone="+44 20 7946 0958").phone == "+442079460958"


def test_us_number_with_impossible_exchange_is_refused():
    with pytest.raises(InputError, match="phone"):
        make_consumer(phone="+17131550100")


def test_consumer_state_may_be_omitted():
    assert make_consumer(state=None).state is None


def test_jsonl_reader_reports_the_line_of_bad_json(tmp_path):
    path = tmp_path / "agents.jsonl"
    good = json.dumps(BASE_AGENT)
    path.write_text(good + "\n\n" + good.replace('"npn": "17294003"', '"npn": "x"') + "\n")
    with pytest.raises(InputError, match=r"^agents.jsonl:3: npn: "):
        list(wire.read_jsonl(path, Agent))
    path.write_text(good + "\n{not json\n")
    with pytest.raises(InputError, match=r"^agents.jsonl:2: not valid JSON"):
        list(wire.read_jsonl(path, Agent))


def test_consumer_file_errors_name_the_file(tmp_path):
    path = tmp_path / "consumer.json"
    path.write_text(
        json.dumps(
            {
                "first_name": "A",
                "last_name": "B",
                "phone": "+17135550100",
                "email": "a@example.com",
                "zip": "77002",
                "language": "xx",
            }
        )
    )
    with pytest.raises(InputError, match=r'^consumer.json: language: unknown language code "xx"'):
        wire.read_json(path, Consumer)


def test_state_and_language_codes_are_read_in_any_case():
    consumer = make_consumer(state="tx", language="ES")
    assert (consumer.state, consumer.language) == ("TX", "es")
