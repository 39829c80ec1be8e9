"""The wire format: JSON and JSONL files in, models out, and back.

One cattrs converter (`converter`), a fast msgspec reader for agent lines
(`fast_agents`) that hands any doubt to the converter, field errors that
name the path and never quote contact data (`field_errors`), and bulk loads
(`bulk`). May import `hod_core.domain` and `hod_core.errors` only.
"""

from hod_core.wire.files import (
    agent_from_json,
    read_agents,
    read_json,
    read_jsonl,
    read_jsonl_all,
    read_record,
    structure,
    unstructure,
)

__all__ = [
    "agent_from_json",
    "read_agents",
    "read_json",
    "read_jsonl",
    "read_jsonl_all",
    "read_record",
    "structure",
    "unstructure",
]
