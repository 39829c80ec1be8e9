"""hod-core: route a Get Contacted request to the closest eligible agent.

The public surface for embedding:

    from hod_core import Matcher, load_policy, read_jsonl, read_json
    from hod_core.models import Agent, Consumer
"""

from .errors import HodError, InputError, PolicyError
from .matcher import Matcher
from .models import Agent, Consumer, MatchResult, QueueEntry
from .query import OfferLedger, OfferSnapshot
from .rules.policy import Policy, load_policy
from .wire import read_json, read_jsonl, structure, unstructure

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
