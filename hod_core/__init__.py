"""hod-core: route a Get Contacted request to the closest eligible agent.

This module's `__all__` is the public Python surface, with two more packages:
`hod_core.testing` (test doubles, sample data and the conformance suite, for
adapter authors) and `hod_core.server` (`create_app`, the reference server's
ASGI app). Every other module is internal: it is not re-exported here and may
change or move in any release. Examples and adapters import only from these
three.

Match one consumer against a file of agents::

    from hod_core import Matcher, load_policy, read_json, read_jsonl

Run the referral lifecycle (offers, accept, expiry) on a store::

    from hod_core import Consumer, MemoryStore, Router

Write an adapter (a store or a notification channel)::

    from hod_core import Channel, Commit, Notice, adapter_config, hookimpl, register_channel

The surface, by kind:

- services: `Router` (the lifecycle), `Matcher` (one match), `Policy` and
  `load_policy` (the rule file), `MemoryStore` (every store hook in memory),
  `load_adapter` (an installed adapter by name);
- models: the agent (`Agent`, `License`, `Availability`, `Interval`, `Break`,
  `TodayOverride`, `OutOfOffice`, `Participation`, `DisplayOption`,
  `ContactMethod`), the request (`Consumer`), a match (`MatchResult`,
  `QueueEntry`, `OfferLedger`, `OfferSnapshot`), the lifecycle (`Referral`,
  `Offer`, `Event`, `ReferralStatus`, `OfferStatus`, `NotAGoodReason`,
  `AgentOffer`, `OfferStats`, `TickReport`), the reference server's accounts
  (`Account`, `Invitation`, `Session`, `ThrottleState`, `TERMS`,
  `token_hash` and the outcomes of creating one: `CREATED`, `LOGIN_TAKEN`,
  `NPN_TAKEN`, `INVITATION_INVALID`) and what a channel delivers (`Notice`,
  `deadline_text`);
- the wire format: `structure`, `unstructure`, `read_json`, `read_jsonl`,
  `read_agents`, and `StoredAgentDecoder` (a store's own agent bodies back
  into agents, trusted where the shape is the one written);
- the extension contract: `hookimpl`, `Commit`, `StoreAdapter` (what a store
  is besides its hooks), the channel registry (`Channel`, `register_channel`,
  `unregister_channel`) and the settings helpers (`adapter_config`,
  `setting`, `secret`);
- errors: `HodError` and its subclasses.

What matching needs is imported with the package; the rest (the lifecycle,
the extension contract, the accounts) on first use, so `import hod_core`
costs a host that only matches no more than the matcher.
"""

# First, so that a module reading the version never meets it missing.
__version__ = "0.1.0"

import importlib  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

# Matching needs these modules anyway: imported with the package.
from hod_core.domain.channels import Channel, register_channel, unregister_channel  # noqa: E402
from hod_core.domain.models import (  # noqa: E402
    Agent,
    Availability,
    Break,
    Consumer,
    ContactMethod,
    DisplayOption,
    Interval,
    License,
    MatchResult,
    OutOfOffice,
    Participation,
    QueueEntry,
    TodayOverride,
)
from hod_core.errors import (  # noqa: E402
    ConfigurationError,
    DeliveryFailed,
    HodError,
    InputError,
    LifecycleError,
    NotFound,
    OfferExpired,
    PolicyError,
    StoreError,
    StoreUnavailable,
)
from hod_core.matching.match_facts import OfferLedger, OfferSnapshot  # noqa: E402
from hod_core.matching.matcher import Matcher  # noqa: E402
from hod_core.rules.policy import Policy, load_policy  # noqa: E402
from hod_core.wire.files import (  # noqa: E402
    read_agents,
    read_json,
    read_jsonl,
    structure,
    unstructure,
)

# The lifecycle, the extension contract and the accounts are imported on
# first use (`__getattr__` below), so a host that only matches does not load
# the router, its delivery threads' module or pluggy. The same imports under
# TYPE_CHECKING let type checkers and the API reference see them.
if TYPE_CHECKING:
    from hod_core.domain.account_records import (
        CREATED,
        INVITATION_INVALID,
        LOGIN_TAKEN,
        NPN_TAKEN,
        TERMS,
        Account,
        Invitation,
        Session,
        ThrottleState,
        token_hash,
    )
    from hod_core.domain.referrals import (
        AgentOffer,
        Event,
        NotAGoodReason,
        Offer,
        OfferStats,
        OfferStatus,
        Referral,
        ReferralStatus,
    )
    from hod_core.extend.hookspecs import Commit, StoreAdapter, hookimpl
    from hod_core.extend.plugins import load_adapter
    from hod_core.extend.settings import adapter_config, secret, setting
    from hod_core.lifecycle.router import Router
    from hod_core.lifecycle.sweep import TickReport
    from hod_core.notify.notices import Notice, deadline_text
    from hod_core.stores.memory.memory_store import MemoryStore
    from hod_core.wire.stored_agents import StoredAgentDecoder

_IMPORTED_ON_USE = {
    "hod_core.domain.account_records": (
        "CREATED",
        "INVITATION_INVALID",
        "LOGIN_TAKEN",
        "NPN_TAKEN",
        "TERMS",
        "Account",
        "Invitation",
        "Session",
        "ThrottleState",
        "token_hash",
    ),
    "hod_core.domain.referrals": (
        "AgentOffer",
        "Event",
        "NotAGoodReason",
        "Offer",
        "OfferStats",
        "OfferStatus",
        "Referral",
        "ReferralStatus",
    ),
    "hod_core.extend.hookspecs": ("Commit", "StoreAdapter", "hookimpl"),
    "hod_core.extend.plugins": ("load_adapter",),
    "hod_core.extend.settings": ("adapter_config", "secret", "setting"),
    "hod_core.lifecycle.router": ("Router",),
    "hod_core.lifecycle.sweep": ("TickReport",),
    "hod_core.notify.notices": ("Notice", "deadline_text"),
    "hod_core.stores.memory.memory_store": ("MemoryStore",),
    "hod_core.wire.stored_agents": ("StoredAgentDecoder",),
}
_DEFINED_IN = {name: module for module, names in _IMPORTED_ON_USE.items() for name in names}


def __getattr__(name: str):
    if name not in _DEFINED_IN:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_DEFINED_IN[name]), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_DEFINED_IN))


__all__ = [
    # services
    "Matcher",
    "MemoryStore",
    "Policy",
    "Router",
    "load_adapter",
    "load_policy",
    # the agent
    "Agent",
    "Availability",
    "Break",
    "ContactMethod",
    "DisplayOption",
    "Interval",
    "License",
    "OutOfOffice",
    "Participation",
    "TodayOverride",
    # the request and a match
    "Consumer",
    "MatchResult",
    "OfferLedger",
    "OfferSnapshot",
    "QueueEntry",
    # the lifecycle
    "AgentOffer",
    "Event",
    "NotAGoodReason",
    "Offer",
    "OfferStats",
    "OfferStatus",
    "Referral",
    "ReferralStatus",
    "TickReport",
    # accounts of the reference server, kept by the account store hooks
    "Account",
    "CREATED",
    "INVITATION_INVALID",
    "Invitation",
    "LOGIN_TAKEN",
    "NPN_TAKEN",
    "Session",
    "TERMS",
    "ThrottleState",
    "token_hash",
    # what a channel delivers
    "Notice",
    "deadline_text",
    # the wire format
    "read_agents",
    "read_json",
    "read_jsonl",
    "structure",
    "unstructure",
    "StoredAgentDecoder",
    # the extension contract
    "Commit",
    "StoreAdapter",
    "hookimpl",
    "Channel",
    "register_channel",
    "unregister_channel",
    "adapter_config",
    "secret",
    "setting",
    # errors
    "ConfigurationError",
    "DeliveryFailed",
    "HodError",
    "InputError",
    "LifecycleError",
    "NotFound",
    "OfferExpired",
    "PolicyError",
    "StoreError",
    "StoreUnavailable",
]
