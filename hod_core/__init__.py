"""hod-core: route a Get Contacted request to the closest eligible agent.

The public surface for embedding:

    from hod_core import Matcher, load_policy, read_jsonl, read_json
    from hod_core.domain.models import Agent, Consumer
"""

from hod_core.domain.models import Agent, Consumer, MatchResult, QueueEntry
from hod_core.errors import HodError, InputError, PolicyError
from hod_core.matching.match_facts import OfferLedger, OfferSnapshot
from hod_core.matching.matcher import Matcher
from hod_core.rules.policy import Policy, load_policy
from hod_core.wire import read_json, read_jsonl, structure, unstructure

__all__ = [
    "Agent",
    "Consumer",
    "HodError",
    "InputError",
    "MatchResult",
    "Matcher",
    "OfferLedger",
    "OfferSnapshot",
    "Policy",
    "PolicyError",
    "QueueEntry",
    "load_policy",
    "read_json",
    "read_jsonl",
    "structure",
    "unstructure",
]
__version__ = "0.1.0"
