"""Agents a store wrote, read back without validating them again: equal to validated ones."""

from __future__ import annotations

import attrs
import orjson
import pytest

from hod_core import Agent, InputError, structure, unstructure
from hod_core.testing import Synthesizer, samples
from hod_core.wire import stored_agents
from hod_core.wire.stored_agents import StoredAgentDecoder

EVERY_FIELD = {  # every optional field set, instants with offsets other than UTC
    "street_address": None,
    "state_preferences": ["TX", "LA"],
    "suspended": True,
    "reinstated_at": "2026-11-20T09:30:00-06:00",
    "timezone": "America/Chicago",
    "availability": {
        "weekly": {"mon": [["08:00", "12:00"], ["13:00", "24:00"]], "sat": [["10:00", "14:00"]]},
        "breaks": [
            {"days": ["mon", "tue"], "start": "12:00", "end": "12:30"},
            {"days": None, "start": "16:00", "end": "16:15"},
        ],
        "today": {
            "date": "2026-11-23",
            "on": False,
            "since": "2026-11-23T08:00:00-06:00",
            "until": "2026-11-23T15:00:00Z",
        },
        "out_of_office": [
            {"from": "2026-12-24T00:00:00-06:00", "to": "2026-12-27T00:00:00-06:00"},
            {"from": "2027-01-10T00:00:00Z", "to": None},
        ],
    },
}


def _stored(agent: Agent) -> bytes:
    return orjson.dumps(unstructure(agent))  # what the store writes


def _validated(body: bytes) -> Agent:
    return structure(orjson.loads(body), Agent)


def test_the_models_have_the_fields_the_decoder_sets():
    assert stored_agents.TRUSTED, (
        f"models changed: {stored_agents._CHANGED}; update stored_agents.py"
    )


def test_trusted_agents_equal_validated_ones():
    synth = Synthesizer(seed=7)
    wire_agents = [synth.agent(str(20_000_000 + n)) for n in range(400)]
    full = {**unstructure(samples.agent("555")), **EVERY_FIELD}
    wire_agents.append(full)
    wire_agents.append({**full, "display_option": 4, "contact_method": "email", "licenses": []})
    decode = StoredAgentDecoder()
    for data in wire_agents:
        body = _stored(structure(data, Agent))
        trusted, validated = decode(body), _validated(body)
        assert trusted == validated
        assert attrs.asdict(trusted, recurse=False).keys() == attrs.asdict(validated).keys()
        for name, value in attrs.asdict(trusted, recurse=False).items():
            assert type(value) is type(getattr(validated, name)), name
    assert decode.validated == 0  # none of them needed the converter
    assert full["reinstated_at"] != "2026-11-20T15:30:00+00:00"  # the offset was not UTC...
    assert decode(_stored(structure(full, Agent))).reinstated_at.utcoffset().total_seconds() == 0


def test_repeated_parts_are_shared_objects():
    decode = StoredAgentDecoder()
    one, two = (decode(_stored(samples.agent(npn))) for npn in ("1", "2"))
    assert one.availability is two.availability
    assert one.participation is two.participation


def test_a_body_of_an_older_shape_is_validated_and_gets_the_defaults():
    data = unstructure(samples.agent("777"))
    del data["timezone"], data["availability"]  # written before these fields existed
    decode = StoredAgentDecoder()
    agent = decode(orjson.dumps(data))
    assert agent == samples.agent("777") and decode.validated == 1


def test_a_body_the_decoder_cannot_rebuild_is_refused_naming_the_field():
    data = {**unstructure(samples.agent("778")), "display_option": 7}
    with pytest.raises(InputError) as refused:
        StoredAgentDecoder()(orjson.dumps(data))
    assert "display_option" in str(refused.value)


def test_a_changed_model_turns_trust_off(monkeypatch):
    @attrs.frozen
    class Grown:
        a: int
        b: int = 0  # a field the decoder would not set

    monkeypatch.setattr(stored_agents, "_CHANGED", [])
    assert stored_agents._setters(Grown, "a") == [None]
    assert stored_agents._CHANGED == ["Grown"]


def test_a_parsed_body_decodes_as_its_text_does():
    body = _stored(samples.agent("9", reinstated_at=samples.START))
    decode = StoredAgentDecoder()
    assert decode.of_data(orjson.loads(body)) == decode(body) == _validated(body)


def test_an_untrusting_decoder_validates_every_body():
    decode = StoredAgentDecoder(trusted=False)
    assert decode(_stored(samples.agent("10"))) == samples.agent("10")
    assert decode.validated == 1
