"""A store adapter: every store hook in memory, each event also appended to an audit file.

    python examples/store_adapter.py        # one referral through it, then the audit file

and the conformance suite on it, from this folder (docs/howto/write-a-store.md):

    pytest -p hod_core.testing.plugin --hod-adapter store_adapter:make \\
        --pyargs hod_core.testing.conformance

A real store keeps referrals in a database; this one inherits them from
`MemoryStore` and adds what every store has besides its hooks: a settings
class, a factory, `durable` and `close()`.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from hod_core import (
    Agent,
    Commit,
    Event,
    MemoryStore,
    Referral,
    Router,
    adapter_config,
    hookimpl,
    unstructure,
)
from hod_core.testing import FakeClock, Outbox, samples


@attrs.frozen
class AuditSettings:
    """Settings of the audited store (environment: HOD_AUDIT_<NAME>)."""

    audit_file: str = ""
    """The JSON Lines file every event is appended to (default: audit.jsonl in data_dir)."""


class AuditedStore(MemoryStore):
    """The in-memory store, writing each event it stores to an audit file too."""

    # The referrals live in this instance's memory: a second instance starts
    # empty. The audit file is a copy for people, never read back.
    durable = False

    def __init__(self, audit_file: Path):
        super().__init__()
        self._audit = open(audit_file, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def close(self) -> None:
        """Release the audit file; a second close does nothing."""
        self._audit.close()

    def _write(self, events: Sequence[Event]) -> None:
        for event in events:
            self._audit.write(json.dumps(unstructure(event), default=str) + "\n")
        self._audit.flush()

    @hookimpl
    def hod_store_commit(
        self, referral: Referral, expected_version: int, events: Sequence[Event], max_pending: int
    ) -> Commit:
        answer = super().hod_store_commit(referral, expected_version, events, max_pending)
        if answer is Commit.WRITTEN:
            self._write(events)
        return answer

    @hookimpl
    def hod_store_put_agent(self, agent: Agent, events: Sequence[Event]) -> int:
        revision = super().hod_store_put_agent(agent, events)
        self._write(events)
        return revision

    @hookimpl
    def hod_store_put_agents(self, agents: Sequence[Agent], events: Sequence[Event]) -> int:
        revision = super().hod_store_put_agents(agents, events)
        if agents:
            self._write(events)
        return revision

    @hookimpl
    def hod_store_append_events(self, events: Sequence[Event]) -> None:
        super().hod_store_append_events(events)
        self._write(events)


def make(settings: Mapping[str, str]) -> AuditedStore:
    """The factory an entry point names (`hod_core.adapters`): settings in, store out.
    `adapter_config` refuses an unknown setting, naming it."""
    config = adapter_config(AuditSettings, settings, env_prefix="HOD_AUDIT_")
    audit_file = config.audit_file or Path(settings.get("data_dir", ".")) / "audit.jsonl"
    return AuditedStore(Path(audit_file))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = make({"data_dir": folder})
        router = Router([store, FakeClock(samples.START), Outbox()], delivery_threads=0)
        router.put_agent(samples.agent("17294001", "77002"))
        referral = router.request_contact(samples.CONSUMER)
        router.accept(referral.id, "17294001")
        router.close()  # records the notices, then closes the store: the file is released
        print("Audit file:")
        for line in (Path(folder) / "audit.jsonl").read_text().splitlines():
            event = json.loads(line)
            print(f"  {event['kind']:<18} referral={event['referral_id']} npn={event['npn']}")


if __name__ == "__main__":
    main()
