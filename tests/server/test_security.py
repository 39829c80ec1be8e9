"""Security headers on every answer, and logs that carry no personal data:
no consumer name, phone or email, no status token, no query string, in the
access log, the error log or anywhere else (P1)."""

from __future__ import annotations

import logging
import re

from fastapi.testclient import TestClient

from hod_core.server.app import create_app

from .data import ANA, CONTACT_VALUES


def test_api_answers_carry_the_security_headers(client):
    for answer in (client.get("/healthz"), client.post("/api/v1/referrals", json={})):
        headers = answer.headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in headers  # plain HTTP here
    assert client.post("/api/v1/referrals", json={}).headers["cache-control"] == "no-store"


def test_https_deployments_send_hsts(settings, clock):
    from attrs import evolve

    app = create_app(
        evolve(settings, public_url="https://hod.example.org"), clock=clock, sweep=False
    )
    with TestClient(app) as client:
        assert client.get("/healthz").headers["strict-transport-security"].startswith("max-age=")


def test_the_docs_page_runs_no_inline_script(client):
    page = client.get("/docs")
    assert page.status_code == 200
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "http" not in csp  # this server's files only
    assert client.get("/docs/init.js").headers["content-type"].startswith("text/javascript")
    spec = client.get("/openapi.json").json()
    assert "/api/v1/referrals" in spec["paths"] and "/api/v1/agent/referrals" in spec["paths"]


def test_logs_hold_no_contact_data_tokens_or_queries(client, make_agent, agent_login, caplog):
    make_agent("1000001", "77002")
    maria = agent_login("1000001")
    with caplog.at_level(logging.DEBUG):
        created = client.post("/api/v1/referrals", json=ANA).json()
        client.get(f"/api/v1/referrals/status/{created['status_token']}?email={ANA['email']}")
        client.post("/api/v1/referrals", json={**ANA, "email": "not-an-address", "zip": "x"})
        maria.post(f"/api/v1/agent/referrals/{created['reference']}/accept")
        maria.get("/api/v1/agent/referrals")
    text = _server_log(caplog)
    assert '"POST /api/v1/referrals" 201' in text
    assert '"GET /api/v1/referrals/status/{token}" 200' in text  # the template, not the token
    for secret in (*CONTACT_VALUES, "not-an-address", created["status_token"], "?"):
        assert secret not in text


def _server_log(caplog) -> str:
    """What the server logged (the test's HTTP client logs its own requests: not ours)."""
    client_side = ("httpx", "httpcore", "asyncio")
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(client_side))


class BrokenClock:
    """A clock that breaks with the consumer's email in its message."""

    broken = False

    def hod_now(self):
        if self.broken:
            raise RuntimeError(f"cannot tell the time for {ANA['email']}")
        from datetime import UTC, datetime

        return datetime(2026, 11, 23, 16, tzinfo=UTC)


def test_a_server_fault_is_a_bare_500_logged_without_its_message(settings, caplog):
    clock = BrokenClock()
    app = create_app(settings, clock=clock, sweep=False)
    with TestClient(app) as client, caplog.at_level(logging.INFO):
        clock.broken = True
        answer = client.post("/api/v1/referrals", json=ANA)
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal error (logged)"}
    logged = _server_log(caplog)
    assert "POST /api/v1/referrals failed: RuntimeError" in logged
    assert "hod_now" in logged  # where it broke, for whoever mends it
    assert not any(value in logged for value in CONTACT_VALUES)
