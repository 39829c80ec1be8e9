"""Whatever a client sends, the answer is 4xx, never 5xx, and nothing is
stored: every documented endpoint that takes a body is fed hostile bodies as
the user it is meant for, then random JSON (hypothesis, bounded)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .data import ANA

HOSTILE = [
    b"[" * 100_000,
    b'{"a":' * 50_000,
    b'{"zip": ' + b"9" * 5000 + b"}",
    b"\xff\xfe\x00garbage",
    b'{"first_name": "\xc3\x28"}',
    b"",
    b"null",
    b"[]",
    b'"a string"',
    b"12",
    b'{"npn": "1", "npn": "2"}',
    b'{"first_name": "Ana\\u0000", "status": {"$gt": 1}, "on": "yes", "weekly": [1, 2]}',
    b'{"phone": "' + b"9" * 60_000 + b'"}',
    b'{"until": "9999-12-31T23:59:59-23:59", "from": "0001-01-01T00:00:00+14:00", "to": 1e309}',
    b'{"state_preferences": [null, 1, {"a": []}], "languages": "en", "zip": 77002}',
    json.dumps({**ANA, "first_name": "\u202eAna"}).encode(),
]


def writable_endpoints(app):
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method in ("post", "put", "patch")
    ]


@pytest.fixture
def users(client, make_agent, agent_login, operator_login):
    make_agent("1000001", "77002")
    reference = client.post("/api/v1/referrals", json=ANA).json()["reference"]
    return {
        "/api/v1/agent": agent_login("1000001"),
        "/api/v1/operator": operator_login(),
        "": client,
        "reference": reference,
    }


def _client_for(users, path):
    return next(users[p] for p in ("/api/v1/agent", "/api/v1/operator", "") if path.startswith(p))


def _fill(path, users):
    return path.replace("{referral_id}", users["reference"]).replace("{npn}", "1000001")


def test_hostile_bodies_never_get_a_5xx(app, users, hod):
    before = len(hod.router.referrals(limit=100))
    for method, template in writable_endpoints(app):
        client, path = _client_for(users, template), _fill(template, users)
        for body in HOSTILE:
            answer = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code < 500, (method, path, body[:40], answer.text[:200])
            assert len(answer.content) < 5000, (method, path, "an answer echoing the body")
    after = len(hod.router.referrals(limit=100))
    assert after == before  # no hostile Get Contacted was stored


def test_other_content_types_and_files_are_refused_cleanly(app, users):
    for method, template in writable_endpoints(app):
        client, path = _client_for(users, template), _fill(template, users)
        for headers, content in (
            ({"Content-Type": "text/plain"}, b"first_name=Ana"),
            ({"Content-Type": "application/x-www-form-urlencoded"}, b"%%%&&&=\xff"),
            ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x\r\nbroken"),
        ):
            answer = client.request(method, path, content=content, headers=headers)
            assert answer.status_code < 500, (method, path, headers, answer.text[:200])
    upload = users[""].post("/api/v1/referrals", files={"first_name": ("a.txt", b"Ana")})
    assert upload.status_code in (400, 422)  # starlette refuses a file where none may be


def test_a_body_over_the_limit_is_refused_before_it_is_read(client, settings):
    big = b"x" * (settings.max_body_bytes + 1)
    declared = client.post(
        "/api/v1/referrals", content=big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413

    def chunks():  # no Content-Length: the limit counts what streams in
        for _ in range(settings.max_body_bytes // 1000 + 2):
            yield b" " * 1000

    streamed = client.post(
        "/api/v1/referrals", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from([*ANA, "state", "status", "on", "until", "weekly", "x"]),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=json_values)
def test_random_json_never_gets_a_5xx(users, body):
    for client, method, path in (
        (users[""], "POST", "/api/v1/referrals"),
        (users["/api/v1/agent"], "PATCH", "/api/v1/agent/profile"),
        (users["/api/v1/agent"], "PATCH", "/api/v1/agent/availability"),
        (users["/api/v1/agent"], "POST", "/api/v1/agent/availability/today"),
        (users["/api/v1/agent"], "POST", f"/api/v1/agent/referrals/{users['reference']}/status"),
    ):
        answer = client.request(method, path, json=body)
        assert answer.status_code < 500, (path, body, answer.text[:200])
