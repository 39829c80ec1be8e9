"""What a host asks the router beyond the lifecycle: its agents, operator
actions, listings, health, notices and the account store.

A host (the reference server, a CRM) uses the router through its public
methods only, never its matcher, roster, store hooks or dispatcher: these
methods say what a host needs, so the router's parts can change behind them.
`Router` takes them in as a mixin; they work on the router's own parts.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import evolve

from hod_core.domain.models import Agent
from hod_core.domain.referrals import Event, Referral
from hod_core.errors import ConfigurationError
from hod_core.extend import hookspecs
from hod_core.extend.plugins import bind_single
from hod_core.matching.local_help import Directory, DirectoryPage
from hod_core.notify.notices import Notice
from hod_core.rules.policy import Policy

if TYPE_CHECKING:
    from hod_core.lifecycle.router import Router

Plugin = TypeVar("Plugin")
_DIRECTORY_LOCK = threading.Lock()  # one Directory per router, built on first search


class HostMethods:
    """The router's methods for a host: agents, operators, health and accounts."""

    @property
    def policy(self: Router) -> Policy:
        """The rules this router applies (the rule file's, or the defaults)."""
        return self._policy

    # -- agents ---------------------------------------------------------------------
    def agent(self: Router, npn: str) -> Agent:
        """The agent as last saved, by this process or another; `NotFound` if none."""
        return self.roster.agent(npn)

    def loaded_agent(self: Router, npn: str) -> Agent | None:
        """The agent as this router last loaded it, or None; no store read
        (call `sync_agents` first to see what other processes saved)."""
        return self.matcher.agent(npn) if npn in self.matcher else None

    def knows_agent(self: Router, npn: str) -> bool:
        """Whether this router has loaded an agent with this NPN; no store read."""
        return npn in self.matcher

    def agents(self: Router) -> list[Agent]:
        """Every agent, as last saved by anyone (agents saved elsewhere are loaded first)."""
        self.sync_agents()
        return list(self.matcher.agents())

    def agent_count(self: Router) -> int:
        """How many agents this router has loaded; no store read."""
        return len(self.matcher)

    def agent_zone(self: Router, npn: str) -> str:
        """The IANA time zone the agent's hours are read in (its own, else its ZIP's)."""
        return self.matcher.zone(npn)

    def suspend(self: Router, npn: str, *, actor: str = "host") -> Agent:
        """Suspend an agent (E3) until someone reinstates them (`reinstate`)."""
        agent = evolve(self.roster.agent(npn), suspended=True)
        event = Event(self.now(), "agent.suspended", npn=npn, actor=actor, rule="E3")
        self.roster.save(agent, event)
        return agent

    def verdicts(
        self: Router, npn: str, referral: Referral, at: datetime | None = None
    ) -> dict[str, Any]:
        """Every rule's verdict on agent `npn` for `referral` at `at` (now when
        None), stored or not: a host may ask about a probe that is never stored
        (what would a consumer from this state meet?)."""
        return self.roster.why(npn, referral, at or self.now())

    def find_local_help(
        self: Router,
        zip_code: str,
        *,
        radius_miles: int | None = None,
        language: str | None = None,
        page: int = 1,
    ) -> DirectoryPage:
        """Find Local Help (D1-D3): agents near a ZIP who may be listed, nearest
        first, as of now. Bad input raises InputError naming the field."""
        self.sync_agents()  # agents saved by another process since
        with _DIRECTORY_LOCK:
            directory = getattr(self, "_directory", None)
            if directory is None:
                directory = self._directory = Directory(self.matcher)
        return directory.search(
            zip_code, self.now(), radius_miles=radius_miles, language=language, page=page
        )

    # -- listings for operators -----------------------------------------------------------
    def referrals(
        self: Router, *, status: str | None = None, before: str | None = None, limit: int = 50
    ) -> Sequence[Referral]:
        """Referrals newest first, of one status value when given, after the
        referral with id `before` when given (needs the store's listing hooks)."""
        return self.plugins.hook.hod_store_referrals(status=status, before=before, limit=limit)

    def events_of_kind(
        self: Router, kinds: Sequence[str], *, before: int | None = None, limit: int = 50
    ) -> Sequence[Event]:
        """Events of these kinds, newest first, below seq `before` when given;
        outcomes not yet written are written first."""
        self.flush()
        return self.plugins.hook.hod_store_events_of_kind(kinds=kinds, before=before, limit=limit)

    def waiting(self: Router) -> Sequence[str]:
        """Ids of the referrals waiting for an eligible agent (L10), oldest first."""
        return self.hook.hod_store_waiting()

    # -- health, notices, plugins ------------------------------------------------------
    def health_check(self: Router) -> None:
        """Read from the store; whatever it raises says the store does not answer."""
        self.hook.hod_store_referral(referral_id="healthz")  # any read will do

    def send_notice(self: Router, notice: Notice) -> None:
        """Send a notice that is not an offer's (an invitation, a password reset)
        on its channel, and write the delivery's events to the audit trail."""
        self.dispatch.send(notice)
        self.flush()

    def plugin_of(self: Router, kind: type[Plugin]) -> Plugin | None:
        """The first registered plugin that is a `kind`, or None."""
        return next((p for p in self.plugins.get_plugins() if isinstance(p, kind)), None)

    def account_store(self: Router) -> SimpleNamespace:
        """The store's account hooks (`hookspecs.ACCOUNT_STORE_HOOKS`), bound for
        direct calls; ConfigurationError when the store keeps no accounts."""
        missing = [
            name
            for name in hookspecs.ACCOUNT_STORE_HOOKS
            if not getattr(self.plugins.hook, name).get_hookimpls()
        ]
        if missing:
            raise ConfigurationError(
                "the store keeps no accounts (missing " + ", ".join(missing) + "): the server "
                "needs a store adapter with the account hooks, such as store_sqlite"
            )
        return bind_single(self.plugins, hookspecs.ACCOUNT_STORE_HOOKS)
