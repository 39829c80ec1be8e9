"""A store adapter keeps every contract of the account hooks (hookspecs.py,
"accounts of the reference server"): accounts, single-use links (R1),
sessions and login throttling, shared by every server process on the store."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from attrs import evolve

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
from hod_core.extend.hookspecs import ACCOUNT_STORE_HOOKS, STORE_HOOKS
from hod_core.testing.samples import START

T0 = START
R1_TTL = timedelta(hours=48)


@pytest.fixture
def store(hod_adapter):
    if not any(callable(getattr(hod_adapter, name, None)) for name in STORE_HOOKS):
        pytest.skip("not a store adapter")
    missing = [n for n in ACCOUNT_STORE_HOOKS if not callable(getattr(hod_adapter, n, None))]
    assert not missing, f"a store must implement every account hook; missing: {missing}"
    return hod_adapter


def agent_account(npn="1000001", login=None, **changes) -> Account:
    account = Account(
        id=f"acc-{npn}",
        role="agent",
        login=login or f"agent{npn}",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        created_at=T0,
        npn=npn,
        email=f"agent{npn}@example.com",
    )
    return evolve(account, **changes)


def invite(store, npn="1000001", token="tok", kind="register", at=T0) -> str:
    link = Invitation(token_hash(token), kind, npn, sent_at=at, expires_at=at + R1_TTL)
    store.hod_store_put_invitation(invitation=link)
    return token_hash(token)


def create(store, account, invitation_hash=None, now=T0) -> str:
    return store.hod_store_create_account(account=account, invitation_hash=invitation_hash, now=now)


def find(store, by, key):
    return store.hod_store_account(by=by, key=key)


# -- accounts -----------------------------------------------------------------------
def test_an_account_reads_back_equal_by_id_login_npn_and_email(store):
    account = agent_account(terms_accepted={TERMS[0]}, password_changed_at=T0)
    assert create(store, account) == CREATED
    for by, key in [("id", account.id), ("login", "agent1000001"), ("npn", "1000001")]:
        assert find(store, by, key) == account
    assert find(store, "email", "agent1000001@example.com") == account
    assert find(store, "login", "nobody") is None
    assert find(store, "npn", "999") is None
    stored = find(store, "id", account.id)
    assert stored.created_at == T0 and stored.created_at.utcoffset() is not None


def test_logins_and_npns_are_unique(store):
    assert create(store, agent_account("1", login="jane")) == CREATED
    assert create(store, agent_account("2", login="jane")) == LOGIN_TAKEN
    assert create(store, agent_account("1", login="other", id="acc-x")) == NPN_TAKEN
    operator = Account("op-1", "operator", "ops", "hash", T0)
    assert create(store, operator) == CREATED
    assert create(store, evolve(operator, login="ops2")) == LOGIN_TAKEN  # same id
    assert [a.login for a in store.hod_store_accounts(role=None)] == ["jane", "ops"]
    assert [a.login for a in store.hod_store_accounts(role="operator")] == ["ops"]


def test_put_account_replaces_what_may_change_and_nothing_else(store):
    account = agent_account()
    assert create(store, account) == CREATED
    later = T0 + timedelta(days=1)
    changed = evolve(
        account,
        password_hash="new",
        terms_accepted=set(TERMS),
        password_changed_at=later,
        disabled=True,
        login="renamed",
    )
    assert store.hod_store_put_account(account=changed) is True
    stored = find(store, "id", account.id)
    assert stored == evolve(changed, login=account.login)
    assert stored.registration_complete
    assert store.hod_store_put_account(account=agent_account("2")) is False
    assert find(store, "npn", "2") is None


def test_the_oldest_account_answers_for_a_shared_email(store):
    older = agent_account("1", email="shared@example.com")
    newer = agent_account("2", email="shared@example.com", created_at=T0 + timedelta(hours=1))
    assert create(store, newer) == CREATED
    assert create(store, older) == CREATED
    assert find(store, "email", "shared@example.com").npn == "1"


# -- R1: registration links ------------------------------------------------------------
def test_registering_uses_the_link_once(store):
    link = invite(store)
    assert create(store, agent_account(), link) == CREATED
    assert store.hod_store_invitation(token_hash=link).used_at == T0
    assert create(store, agent_account(login="again", id="acc-2"), link) == NPN_TAKEN
    assert store.hod_store_use_invitation(token_hash=link, kind="register", now=T0) is None
    assert find(store, "login", "again") is None


def test_a_link_is_for_its_agent_only_and_expires_48_hours_after_sending(store):
    link = invite(store, npn="1000001")
    assert create(store, agent_account("1000002"), link) == INVITATION_INVALID
    assert create(store, agent_account(), link, now=T0 + R1_TTL) == INVITATION_INVALID
    assert find(store, "npn", "1000001") is None
    assert store.hod_store_invitation(token_hash=link).used_at is None
    assert create(store, agent_account(), link, now=T0 + R1_TTL - timedelta(seconds=1)) == CREATED


def test_an_unknown_link_creates_nothing(store):
    assert create(store, agent_account(), token_hash("never sent")) == INVITATION_INVALID
    assert store.hod_store_accounts(role=None) == []


def test_a_new_link_replaces_the_pending_one(store):
    old = invite(store, token="first")
    new = invite(store, token="second", at=T0 + timedelta(hours=1))
    assert store.hod_store_use_invitation(token_hash=old, kind="register", now=T0) is None
    assert create(store, agent_account(), old) == INVITATION_INVALID
    assert create(store, agent_account(), new, now=T0 + timedelta(hours=2)) == CREATED


def test_replacing_leaves_other_agents_and_other_kinds_alone(store):
    a = invite(store, npn="1", token="a")
    b = invite(store, npn="2", token="b")
    reset = invite(store, npn="1", token="r", kind="reset")
    invite(store, npn="1", token="a2")
    assert store.hod_store_invitation(token_hash=a) is None
    assert store.hod_store_invitation(token_hash=b) is not None
    assert store.hod_store_invitation(token_hash=reset) is not None


def test_use_invitation_is_single_use_of_the_right_kind(store):
    link = invite(store, npn="acc-1", token="reset-me", kind="reset")
    assert store.hod_store_use_invitation(token_hash=link, kind="register", now=T0) is None
    used = store.hod_store_use_invitation(token_hash=link, kind="reset", now=T0)
    assert used.subject == "acc-1" and used.used_at == T0
    assert store.hod_store_use_invitation(token_hash=link, kind="reset", now=T0) is None
    expired = invite(store, npn="acc-2", token="late", kind="reset")
    later = T0 + R1_TTL
    assert store.hod_store_use_invitation(token_hash=expired, kind="reset", now=later) is None


@pytest.mark.parametrize("use", ["use_invitation", "create_account"])
def test_of_threads_racing_for_one_link_exactly_one_wins(store, use):
    link = invite(store)
    start, wins = threading.Barrier(8), []

    def race(n):
        start.wait()
        if use == "use_invitation":
            won = store.hod_store_use_invitation(token_hash=link, kind="register", now=T0)
        else:
            account = agent_account(login=f"racer{n}", id=f"acc-{n}")
            won = create(store, account, link) == CREATED
        if won:
            wins.append(n)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1


# -- sessions -----------------------------------------------------------------------
def session(token="s1", account_id="acc-1", kind="cookie", hours=12) -> Session:
    return Session(token_hash(token), account_id, kind, T0, T0 + timedelta(hours=hours))


def test_a_session_lives_until_it_expires(store):
    s = session()
    store.hod_store_put_session(session=s)
    assert store.hod_store_session(token_hash=s.token_hash, now=T0) == s
    almost = T0 + timedelta(hours=12) - timedelta(microseconds=1)
    assert store.hod_store_session(token_hash=s.token_hash, now=almost) == s
    assert store.hod_store_session(token_hash=s.token_hash, now=T0 + timedelta(hours=12)) is None
    assert store.hod_store_session(token_hash=token_hash("other"), now=T0) is None


def test_log_out_forgets_one_session(store):
    one, two = session("one"), session("two", kind="bearer", hours=24 * 30)
    store.hod_store_put_session(session=one)
    store.hod_store_put_session(session=two)
    store.hod_store_delete_session(token_hash=one.token_hash)
    store.hod_store_delete_session(token_hash=one.token_hash)  # twice: no error
    assert store.hod_store_session(token_hash=one.token_hash, now=T0) is None
    assert store.hod_store_session(token_hash=two.token_hash, now=T0) == two


def test_delete_sessions_by_account_and_by_expiry(store):
    for s in [session("a1"), session("a2", kind="bearer"), session("b1", "acc-2", hours=1)]:
        store.hod_store_put_session(session=s)
    assert store.hod_store_delete_sessions(account_id="acc-1", expired_by=None) == 2
    assert store.hod_store_session(token_hash=token_hash("a2"), now=T0) is None
    assert store.hod_store_delete_sessions(account_id=None, expired_by=T0) == 0
    gone = store.hod_store_delete_sessions(account_id=None, expired_by=T0 + timedelta(hours=1))
    assert gone == 1


# -- login throttling -----------------------------------------------------------------
def test_throttle_counts_failures_in_a_window(store):
    key, window = "login:jane|203.0.113.9", 900.0
    assert store.hod_store_throttle(key=key, now=T0, window_s=window) == ThrottleState()
    for n in range(1, 4):
        at = T0 + timedelta(seconds=n)
        state = store.hod_store_throttle_hit(key=key, now=at, window_s=window)
        assert state == ThrottleState(n, T0 + timedelta(seconds=1), at)
    read = store.hod_store_throttle(key=key, now=T0 + timedelta(seconds=60), window_s=window)
    assert read.count == 3 and read.last_at == T0 + timedelta(seconds=3)
    assert store.hod_store_throttle(key="other", now=T0, window_s=window).count == 0


def test_a_throttle_window_ends_and_a_new_one_starts(store):
    key, window = "k", 60.0
    store.hod_store_throttle_hit(key=key, now=T0, window_s=window)
    store.hod_store_throttle_hit(key=key, now=T0 + timedelta(seconds=30), window_s=window)
    end = T0 + timedelta(seconds=60)
    assert store.hod_store_throttle(key=key, now=end, window_s=window) == ThrottleState()
    assert store.hod_store_throttle_hit(key=key, now=end, window_s=window) == ThrottleState(
        1, end, end
    )


def test_throttle_clear_forgets_a_key(store):
    store.hod_store_throttle_hit(key="a", now=T0, window_s=60.0)
    store.hod_store_throttle_hit(key="b", now=T0, window_s=60.0)
    store.hod_store_throttle_clear(key="a")
    store.hod_store_throttle_clear(key="never")
    assert store.hod_store_throttle(key="a", now=T0, window_s=60.0).count == 0
    assert store.hod_store_throttle(key="b", now=T0, window_s=60.0).count == 1


def test_concurrent_throttle_hits_are_each_counted(store):
    start = threading.Barrier(8)

    def hit():
        start.wait()
        for _ in range(5):
            store.hod_store_throttle_hit(key="k", now=T0, window_s=60.0)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.hod_store_throttle(key="k", now=T0, window_s=60.0).count == 40


def test_purge_forgets_expired_links_and_finished_throttle_windows(store):
    old = invite(store, npn="1", token="old", at=T0 - timedelta(days=9))
    used = invite(store, npn="2", token="used", at=T0 - timedelta(days=9))
    store.hod_store_use_invitation(token_hash=used, kind="register", now=T0 - timedelta(days=9))
    fresh = invite(store, npn="3", token="fresh", at=T0)
    store.hod_store_throttle_hit(key="stale", now=T0 - timedelta(hours=1), window_s=900.0)
    store.hod_store_throttle_hit(key="live", now=T0, window_s=900.0)
    week_ago, window_ago = T0 - timedelta(days=7), T0 - timedelta(seconds=900)
    assert store.hod_store_purge(links_before=week_ago, throttle_before=window_ago) == 3
    assert store.hod_store_invitation(token_hash=old) is None
    assert store.hod_store_invitation(token_hash=used) is None
    assert store.hod_store_invitation(token_hash=fresh) is not None
    assert store.hod_store_throttle(key="live", now=T0, window_s=900.0).count == 1
    assert store.hod_store_purge(links_before=week_ago, throttle_before=window_ago) == 0


def test_a_second_instance_shares_accounts_links_and_sessions(store, hod_make_adapter):
    if getattr(store, "durable", True) is False:
        pytest.skip("the adapter says it keeps nothing beyond its own instance")
    link = invite(store)
    s = session()
    store.hod_store_put_session(session=s)
    other = hod_make_adapter()
    assert create(other, agent_account(), link) == CREATED
    assert find(store, "npn", "1000001") == agent_account()
    assert other.hod_store_session(token_hash=s.token_hash, now=T0) == s
    assert create(store, agent_account(login="twice", id="acc-2"), link) == NPN_TAKEN
