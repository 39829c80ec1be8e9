"""Factories for realistic agents and consumers, built through the wire format."""

from __future__ import annotations

import copy
from datetime import datetime

import pytest

from hod_core import wire
from hod_core.domain.models import Agent, Consumer
from hod_core.matching.matcher import Matcher
from hod_core.rules.policy import load_policy

BASE_AGENT = {
    "npn": "17294003",
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane@example.com",
    "phone": "+12222222222",
    "street_address": "1 Main St",
    "zip": "77030",
    "home_state": "TX",
    "display_option": 1,
    "licenses": [
        {
            "state": "TX",
            "lines_of_authority": ["Accident & Health"],
            "active": True,
            "expires_on": "2027-06-30",
        }
    ],
    "state_preferences": None,
    "languages": ["en", "es"],
    "contact_method": "email_text_app",
    "participation": {
        "plan_year": 2026,
        "hod_training": True,
        "npn_on_ffm_list": True,
        "terms_accepted": True,
    },
    "suspended": False,
    "timezone": None,
    "availability": {"weekly": None},
}

BASE_CONSUMER = {
    "first_name": "Ana",
    "last_name": "Ruiz",
    "phone": "+17135550100",
    "email": "ana@example.com",
    "zip": "77002",
    "state": "TX",
    "language": "es",
}

# Monday 23 November 2026, 10:00 in Houston (America/Chicago, UTC-6).
MONDAY_10AM_HOUSTON = datetime.fromisoformat("2026-11-23T10:00:00-06:00")


def agent_data(**overrides) -> dict:
    data = copy.deepcopy(BASE_AGENT)
    licensed = overrides.pop("licensed", None)
    if licensed is not None:
        data["licenses"] = [
            {
                "state": s,
                "lines_of_authority": ["Accident & Health"],
                "active": True,
                "expires_on": "2027-06-30",
            }
            for s in licensed
        ]
    participation = overrides.pop("participation", None)
    if participation:
        data["participation"].update(participation)
    data.update(overrides)
    return data


def make_agent(**overrides) -> Agent:
    return wire.structure(agent_data(**overrides), Agent)


def make_consumer(**overrides) -> Consumer:
    data = {**BASE_CONSUMER, **overrides}
    return wire.structure({k: v for k, v in data.items() if v is not None}, Consumer)


@pytest.fixture(scope="session")
def policy():
    return load_policy()


@pytest.fixture
def matcher(policy):
    return Matcher(policy)


def queue_npns(result) -> list[str]:
    return [entry.npn for entry in result.queue]
