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

    from hod_core import Commit, Notice, adapter_config, hookimpl, secret

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
  `read_agents`;
- the extension contract: `hookimpl`, `Commit`, `adapter_config`, `secret`;
- errors: `HodError` and its subclasses.
"""

# First, so that a module reading the version never meets it missing.
__version__ = "0.1.0"

from hod_core.domain.account_records import (  # noqa: E402
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
from hod_core.domain.referrals import (  # noqa: E402
    AgentOffer,
    Event,
    NotAGoodReason,
    Offer,
    OfferStats,
    OfferStatus,
    Referral,
    ReferralStatus,
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
from hod_core.extend.hookspecs import Commit, hookimpl  # noqa: E402
from hod_core.extend.plugins import load_adapter  # noqa: E402
from hod_core.extend.settings import adapter_config, secret  # noqa: E402
from hod_core.lifecycle.router import Router  # noqa: E402
from hod_core.lifecycle.sweep import TickReport  # noqa: E402
from hod_core.matching.match_facts import OfferLedger, OfferSnapshot  # noqa: E402
from hod_core.matching.matcher import Matcher  # noqa: E402
from hod_core.notify.notices import Notice, deadline_text  # noqa: E402
from hod_core.rules.policy import Policy, load_policy  # noqa: E402
from hod_core.stores.memory.memory_store import MemoryStore  # noqa: E402
from hod_core.wire.files import (  # noqa: E402
    read_agents,
    read_json,
    read_jsonl,
    structure,
    unstructure,
)

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
    # the extension contract
    "Commit",
    "adapter_config",
    "hookimpl",
    "secret",
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
