"""The hooks a router needs from its host: a clock, a store, notification channels.

Each hook's docstring is its contract. An adapter implements hooks as
methods named after them, marked with `hookimpl` or, for a host's own plain
objects, unmarked: any `hod_*` method of a registered object counts (see
`hod_core.extend.plugins`). The conformance suite (`pytest -p hod_core.testing.plugin`)
holds an adapter to these contracts.

Instants passed in and returned are timezone-aware; stores keep them in UTC.
Store hooks are `firstresult`: exactly one store serves a router, and start-up
refuses two.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import pluggy

from hod_core.domain.models import Agent
from hod_core.domain.referrals import AgentOffer, Event, OfferStats, Referral

PROJECT = "hod"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- clock ----------------------------------------------------------------
@hookspec(firstresult=True)
def hod_now() -> datetime:
    """The current instant, timezone-aware. Every decision reads time here:
    tests register a fake clock and move it, never sleep."""


# -- store: agents ---------------------------------------------------------
@hookspec(firstresult=True)
def hod_store_put_agent(agent: Agent, events: Sequence[Event]) -> int:
    """Insert or replace the agent with `agent.npn` and append `events`, in one
    transaction. Return the agent's new revision: a number greater than every
    revision the store has returned before (across processes)."""


@hookspec(firstresult=True)
def hod_store_put_agents(agents: Sequence[Agent], events: Sequence[Event]) -> int:
    """Save many agents and append `events` in one transaction (an import, a
    simulation's or a benchmark's set-up), as `hod_store_put_agent` saves one:
    each agent gets a new revision, in the order given, greater than every
    revision returned before; of two agents with one NPN the later wins.
    Return the highest revision given (0, writing nothing, when `agents` is
    empty)."""


@hookspec(firstresult=True)
def hod_store_agents(after: int) -> Iterable[tuple[int, Agent]]:
    """Every stored agent whose revision is greater than `after`, as
    (revision, agent), lowest revision first. `after=0` returns all of them;
    a router passes its last seen revision to pick up other processes' changes."""


# -- store: referrals and offers ---------------------------------------------
class Commit(enum.StrEnum):
    """What `hod_store_commit` did. A string enum: a store may return the
    member or its value."""

    WRITTEN = "written"
    STALE = "stale"  # the stored version was not the expected one; nothing written
    AT_CAPACITY = "at_capacity"  # E12: the new offer's agent is full; nothing written


@hookspec(firstresult=True)
def hod_store_commit(
    referral: Referral, expected_version: int, events: Sequence[Event], max_pending: int
) -> Commit:
    """Atomically replace a referral, with its offers, and append `events`.

    Write only if the stored version equals `expected_version` (0: the
    referral must not exist yet), else return `Commit.STALE`; and only if
    every offer Pending in `referral` that is not already Pending in the
    store goes to an agent who holds fewer than `max_pending` Pending offers
    of *other* referrals (E12), else return `Commit.AT_CAPACITY`. Either way
    nothing is written; when both tests fail, STALE (the router reads again).
    Return `Commit.WRITTEN` when written. Two commits over the same version:
    at most one is written.

    The store is the one home of capacity: the router passes the rule file's
    `max_pending_offers_per_agent`, and on AT_CAPACITY decides again without
    that agent (only the last offer of a referral can be newly Pending).
    """


@hookspec(firstresult=True)
def hod_store_referral(referral_id: str) -> Referral | None:
    """The referral as last committed, or None if there is none with this id."""


@hookspec(firstresult=True)
def hod_store_due(now: datetime, limit: int) -> Sequence[str]:
    """Ids of up to `limit` referrals whose `due_at` is at or before `now`,
    earliest first. A referral's `due_at` is a property of the committed record."""


@hookspec(firstresult=True)
def hod_store_waiting() -> Sequence[str]:
    """Ids of every referral with status Waiting, oldest `created_at` first (L10)."""


@hookspec(firstresult=True)
def hod_store_offer_stats(npns: Sequence[str]) -> Mapping[str, OfferStats]:
    """For each agent of `npns`: how many Pending offers it holds over all
    referrals (E12), and when it was last offered any referral (the ranking's
    tie-break). An agent never offered anything may be left out: it reads as
    `OfferStats()`. A match asks once for all the agents at one ZIP."""


@hookspec(firstresult=True)
def hod_store_agent_offers(
    npn: str, since: datetime | None, limit: int | None
) -> Sequence[AgentOffer]:
    """The agent's offers offered at or after `since` (all when None), newest
    first, at most `limit` of them (all when None). Each says whether it was
    `delivered`: True once a `notify.sent` event with its referral id and
    the agent's NPN has been appended (by a commit or `hod_store_append_events`),
    whichever was written first, the offer or the event (L9)."""


# -- store: personal-data retention (P2) -----------------------------------------
@hookspec(firstresult=True)
def hod_store_erasable(closed_before: datetime, limit: int) -> Sequence[str]:
    """Ids of up to `limit` referrals in a final state (Referral Completed,
    Not a Good Referral, Unmatched) whose `closed_at` (or, when it has none,
    `created_at`) is at or before `closed_before`, and that still hold the
    consumer's contact data (`consumer` is not None); earliest closed first.
    The sweep commits each without its contact data (P2), after which it is
    never listed again."""


@hookspec(firstresult=True)
def hod_store_scrub() -> None:
    """Make the contact data of referrals committed without it unrecoverable
    from the store's own storage (P2): no copy of a replaced record may stay
    in any file, page, log, journal or cache the store keeps (a database
    overwrites freed space and empties its write-ahead log). The sweep calls
    it after erasing. A store that keeps nothing on disk drops its caches."""


# -- store: the audit trail ---------------------------------------------------
@hookspec(firstresult=True)
def hod_store_append_events(events: Sequence[Event]) -> None:
    """Append events that change no record (notifications sent or failed).
    Events are never updated or deleted by any hook."""


@hookspec(firstresult=True)
def hod_store_events(referral_id: str | None, after: int, limit: int) -> Sequence[Event]:
    """Up to `limit` events with `seq` greater than `after`, in `seq` order, of
    one referral or (when `referral_id` is None) of all. Each has its `seq` set;
    seq grows in the order events were appended."""


# -- store: the adapter itself ------------------------------------------------
@runtime_checkable
class StoreAdapter(Protocol):
    """What a store is besides its hooks: how it is built, whether it lasts, how it ends.

    - **Factory.** An installed store names, in the entry-point group
      `hod_core.adapters`, a callable taking the settings (a mapping of
      strings: the host's, with `data_dir`, a directory the store may keep
      files in, and `config_file` given to every adapter) and returning the
      store, ready to serve (`SqliteStore.from_settings`, say). It refuses an
      unknown or bad setting with `ConfigurationError` naming it
      (`hod_core.adapter_config` does this for an attrs class of settings).
    - **`durable`**: True when what the store keeps outlives the instance: a
      second instance built with the same settings (in this process or
      another) sees what the first committed, and several routers may share
      it through their own instances. False for a store in one instance's
      memory: the conformance suite skips tests of several instances or
      processes on it, saying why.
    - **`close()`**: release every file, connection and thread the store
      holds. `Router.close()` calls it; calling it again does nothing. After
      it the store need not answer any hook.
    - Every hook of `STORE_HOOKS`, and for the reference server those of
      `ACCOUNT_STORE_HOOKS` and `LISTING_STORE_HOOKS`.

    The conformance suite checks all of it (`hod_core.testing.conformance`);
    `Router` refuses at start-up a store without `durable` or `close`.
    """

    durable: bool

    def close(self) -> None: ...


# -- notification channels (L2, R4) ------------------------------------------------
# A channel is a name, its hook and the agent field it addresses
# (`hod_core.domain.channels`). The core channels' hooks are below; an
# adapter that registers another channel gets the same contract under its
# own hook (`hod_core.extend.plugins.channel_spec`).
# A notice (`hod_core.notify.notices.Notice`) is an offer (kind "offer", L2) or the
# registration test text (kind "test", R4). It holds no consumer contact data
# and a sender must not enrich it with any. A sender is called on a worker
# thread of its channel (or the caller's, with `delivery_threads=0`), so it may
# block up to its own timeout without holding up other channels.
# On failure a sender raises: `hod_core.errors.DeliveryFailed` saying whether
# the failure is transient (worth a retry) and the far end's code; an OSError
# (timeout, refused or dropped connection) counts as transient; anything else
# as permanent. The router records every attempt and retries transient ones.
# Neither the exception's message nor any log line may hold a secret.
@hookspec
def hod_notify_email(notice) -> None:
    """Deliver `notice` to `notice.to`, an email address."""


@hookspec
def hod_notify_text(notice) -> None:
    """Deliver `notice` by text message to `notice.to`, an E.164 number."""


@hookspec
def hod_notify_app(notice) -> None:
    """Deliver `notice` to the agent's app (push or webhook), addressed by `notice.npn`."""


STORE_HOOKS = (
    "hod_store_put_agent",
    "hod_store_put_agents",
    "hod_store_agents",
    "hod_store_commit",
    "hod_store_referral",
    "hod_store_due",
    "hod_store_waiting",
    "hod_store_offer_stats",
    "hod_store_agent_offers",
    "hod_store_append_events",
    "hod_store_events",
    "hod_store_erasable",
    "hod_store_scrub",
)


# -- store: accounts of the reference server (R1-R5) ----------------------------
# The server's agents and operators, their single-use links, sessions and
# login throttling, in the store so that several server processes share them.
# Records are those of `hod_core.domain.account_records`; tokens arrive already hashed
# (`account_records.token_hash`) and passwords as argon2id hashes: a store never
# sees a secret. Instants are aware; stores keep them in UTC. A library host
# with no server needs none of these: `Router` does not ask for them, the
# server refuses to start without them, and the conformance suite holds every
# store adapter to them (hod_core/testing/conformance/test_accounts.py).
from hod_core.domain.account_records import Account, Invitation, Session, ThrottleState  # noqa: E402


@hookspec(firstresult=True)
def hod_store_create_account(account: Account, invitation_hash: str | None, now: datetime) -> str:
    """Insert a new account, atomically with using its registration link.

    With `invitation_hash`, the link must be a "register" invitation whose
    subject is `account.npn`, unused, and not expired at `now`; it is marked
    used (at `now`) in the same transaction that inserts the account.
    Answer one of `account_records.CREATE_OUTCOMES`: "created"; else, writing
    nothing, "login_taken" (an account has this `login`, or this `id`),
    "npn_taken" (an agent account has this NPN: R1's returning agent), or
    "invitation_invalid". Of two concurrent calls over one link or one
    login, at most one answers "created"."""


@hookspec(firstresult=True)
def hod_store_put_account(account: Account) -> bool:
    """Replace the stored account with `account.id` (password, terms, email,
    disabled). Its `login`, `npn` and `role` are those stored. False, writing
    nothing, when there is no account with this id."""


@hookspec(firstresult=True)
def hod_store_account(by: str, key: str) -> Account | None:
    """The account whose `by` equals `key`: `by` is "id", "login", "npn" or
    "email" (for email, the oldest such account). None when there is none."""


@hookspec(firstresult=True)
def hod_store_accounts(role: str | None) -> Sequence[Account]:
    """Every account of `role` (all when None), oldest `created_at` first."""


@hookspec(firstresult=True)
def hod_store_put_invitation(invitation: Invitation) -> None:
    """Store a new link. Every other unused link of the same `kind` and
    `subject` stops working at once (a re-invite or a second reset request
    replaces the pending one)."""


@hookspec(firstresult=True)
def hod_store_invitation(token_hash: str) -> Invitation | None:
    """The link with this hash as stored (used or expired ones too), or None.
    A read only: it does not use the link."""


@hookspec(firstresult=True)
def hod_store_use_invitation(token_hash: str, kind: str, now: datetime) -> Invitation | None:
    """Use a link once (R1): if a link of `kind` with this hash exists, is
    unused and `now` is before its `expires_at`, mark it used at `now` and
    return it so; otherwise change nothing and return None. Of any number of
    concurrent calls over one link, at most one returns it."""


@hookspec(firstresult=True)
def hod_store_put_session(session: Session) -> None:
    """Store a new session (its `token_hash` is unique)."""


@hookspec(firstresult=True)
def hod_store_session(token_hash: str, now: datetime) -> Session | None:
    """The session with this hash if it is live at `now` (`now < expires_at`);
    None when unknown or expired."""


@hookspec(firstresult=True)
def hod_store_delete_session(token_hash: str) -> None:
    """Forget one session (log-out). Unknown hashes are ignored."""


@hookspec(firstresult=True)
def hod_store_delete_sessions(account_id: str | None, expired_by: datetime | None) -> int:
    """Forget every session of `account_id` (a password reset, a disabled
    account) and/or every session that expired at or before `expired_by`
    (housekeeping); both may be given. Return how many were forgotten."""


@hookspec(firstresult=True)
def hod_store_purge(links_before: datetime, throttle_before: datetime) -> int:
    """Housekeeping (the server's sweep): forget links (used or not) whose
    `expires_at` is at or before `links_before`, and throttle keys whose
    window started at or before `throttle_before` (they read as clear
    anyway). Return how many records were forgotten."""


@hookspec(firstresult=True)
def hod_store_throttle_hit(key: str, now: datetime, window_s: float) -> ThrottleState:
    """Count one failed attempt under `key` at `now` and return the key's
    state after it. A window starts at the first failure after the key was
    clear; a failure `window_s` seconds or more after that start begins a
    new window, counting 1. Concurrent hits are each counted."""


@hookspec(firstresult=True)
def hod_store_throttle(key: str, now: datetime, window_s: float) -> ThrottleState:
    """The key's state at `now` without counting anything: `ThrottleState()`
    when clear or when its window started `window_s` seconds or more ago."""


@hookspec(firstresult=True)
def hod_store_throttle_clear(key: str) -> None:
    """Clear a key (a successful log-in clears its account-and-address key)."""


ACCOUNT_STORE_HOOKS = (
    "hod_store_create_account",
    "hod_store_put_account",
    "hod_store_account",
    "hod_store_accounts",
    "hod_store_put_invitation",
    "hod_store_invitation",
    "hod_store_use_invitation",
    "hod_store_put_session",
    "hod_store_session",
    "hod_store_delete_session",
    "hod_store_delete_sessions",
    "hod_store_purge",
    "hod_store_throttle_hit",
    "hod_store_throttle",
    "hod_store_throttle_clear",
)


# -- store: listings for operators (the reference server) ---------------------------
# What an operator browses: referrals by status (waiting and unmatched ones,
# L10), and events of some kinds (delivery failures). Like the account hooks,
# not in STORE_HOOKS: a library Router never calls them; `hod serve` needs them.
@hookspec(firstresult=True)
def hod_store_referrals(status: str | None, before: str | None, limit: int) -> Sequence[Referral]:
    """Up to `limit` referrals, newest first (by `created_at`, then id,
    descending); only those whose status value is `status` when given; only
    those after the referral with id `before` in that order when given (the
    next page; an unknown id gives an empty page)."""


@hookspec(firstresult=True)
def hod_store_events_of_kind(
    kinds: Sequence[str], before: int | None, limit: int
) -> Sequence[Event]:
    """Up to `limit` events whose `kind` is one of `kinds`, newest (highest
    `seq`) first; only those with `seq` below `before` when given. Each has
    its `seq` set."""


LISTING_STORE_HOOKS = ("hod_store_referrals", "hod_store_events_of_kind")


# -- store: backups (operators) -------------------------------------------------------
# `hod backup` and `hod restore` call these on the store `hod serve` would use,
# opened alone: no router, since a restore replaces the store under it.
# Optional, like the listings: a store without them has no backup through hod
# (the command says so). A store whose database has its own tools (PostgreSQL:
# pg_dump, pg_restore) may implement them to raise `StoreError` naming those tools.
@hookspec(firstresult=True)
def hod_store_backup(path: str) -> str:
    """Write a consistent copy of everything the store holds to the new file
    `path`, while routers on other threads and processes go on committing:
    the copy holds every commit finished before the backup began, and no
    half of any commit. Replace `path` only once the copy is complete. Return
    one line for the operator (what was copied, how big). Raise `StoreError`
    naming the problem (the path is the store itself, the folder is missing,
    the disk is full)."""


@hookspec(firstresult=True)
def hod_store_restore(path: str, force: bool) -> str:
    """Replace everything the store holds with the backup at `path` (written
    by `hod_store_backup`), after checking that it is an intact backup this
    store can serve; a backup of an older schema is upgraded at the next
    start. Refuse with `StoreError`, changing nothing, when the backup is not
    one, or, unless `force`, when another process (a running server) has the
    store open: its caches would no longer match the store. The store closes
    itself first; build a new one to use what was restored. Return one line
    for the operator."""


BACKUP_STORE_HOOKS = ("hod_store_backup", "hod_store_restore")
