"""Every page of the server, tried as the wrong user and fed hostile forms,
without a browser: the real app, real cookie sessions from the real log-in
form, the CSRF token read from the page's hidden field.

- Nobody logged in is sent to the log-in page and sees no data.
- An agent never reaches the operator's pages, and never sees the contact
  data (P1) of a referral they did not accept; an operator never sees any.
- A cookie POST without the session's CSRF token is refused (403) and
  changes nothing.
- Hostile form posts to every POST page never get a 5xx, never echo more
  than an excerpt, and store nothing of what they sent.

The routes are read from the app itself, so a new page is tried the day it
is added.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from hod_core.server.accounts.auth import CSRF_FIELD, CSRF_HEADER

from .conftest import post_login_form

SKIP = ("/api", "/static", "/docs", "/openapi.json", "/metrics", "/healthz")
PUBLIC = (
    "/",
    "/lang/",
    "/get-contacted",
    "/status/",
    "/find-local-help",
    "/login",
    "/register",
    "/password/",
)
# A consumer whose name, phone and email appear nowhere else in any page.
ZELINDA = {
    "first_name": "Zelinda",
    "last_name": "Quarrington",
    "phone": "+17135550177",
    "email": "zelinda.q@example.com",
    "zip": "77002",
    "language": "es",
}
CONTACT = ("Zelinda", "Quarrington", "7135550177", "713-555-0177", "zelinda.q@example.com")


def _routes(app):
    def walk(routes):
        for route in routes:
            if hasattr(route, "effective_candidates"):  # FastAPI's included router
                yield from walk(route.effective_candidates())
            else:
                yield route

    return list(walk(app.routes))


def page_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every page route: GET and POST, not the API."""

    found = sorted(
        (method, route.path)
        for route in _routes(app)
        if not route.path.startswith(SKIP)
        for method in (getattr(route, "methods", None) or ())
        if method in ("GET", "POST")
    )
    assert ("POST", "/agent/referrals/{referral_id}/accept") in found
    return found


def is_public(path: str) -> bool:
    return path == "/" or any(path.startswith(p) for p in PUBLIC[1:])


def fill(template: str, world) -> str:
    path = (
        template.replace("{referral_id}", world["reference"])
        .replace("{npn}", "1000002")
        .replace("{action}", "suspend")
        .replace("{index}", "0")
        .replace("{code}", "es")
        .replace("{token}", "not-a-token")
    )
    assert not re.search(r"{\w+}", path), f"a path parameter the test does not fill: {path}"
    return path


def leaks(text: str) -> list[str]:
    return [value for value in CONTACT if value in text]


def page_login(app, login: str) -> TestClient:
    """A browser logged in through the log-in form: the session cookie in its jar,
    and the CSRF token of its forms as `browser.csrf`."""
    browser = TestClient(app, follow_redirects=False)
    answer = post_login_form(browser, login)
    assert answer.status_code == 303, answer.text[:300]
    home = browser.get(answer.headers["location"])
    assert home.status_code == 200, (answer.headers["location"], home.text[:300])
    found = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', home.text)
    assert found, "no CSRF token in the page's forms"
    browser.csrf = found.group(1)
    return browser


@pytest.fixture
def world(app, client, hod, make_agent, agent_login, operator_login):
    """Maria holds a Pending offer of Zelinda's referral; Luis (Austin, too far)
    was never offered it; an operator. All three logged in through the form."""
    make_agent("1000001", "77002")
    make_agent("1000002", "73301")
    reference = client.post("/api/v1/referrals", json=ZELINDA).json()["reference"]
    assert hod.router.referral(reference).pending_offer.npn == "1000001"
    agent_login("1000001"), agent_login("1000002"), operator_login()  # the accounts
    return {
        "reference": reference,
        "anonymous": TestClient(app, follow_redirects=False),
        "maria": page_login(app, "agent1000001"),
        "luis": page_login(app, "agent1000002"),
        "ops": page_login(app, "ops"),
    }


def visit(browser, method, path, csrf=True, **kwargs):
    """A request as a browser sends it: a POST carries the form's CSRF token."""
    if method == "POST" and csrf:
        kwargs.setdefault("data", {})[CSRF_FIELD] = browser.csrf
    return browser.request(method, path, **kwargs)


def snapshot(hod, reference):
    """What a refused request must leave as it was."""
    return (
        hod.router.referral(reference),
        [agent for _, agent in hod.router.plugins.hook.hod_store_agents(after=0)],
        sorted(a.id for a in hod.accounts.hook.hod_store_accounts(role=None)),
        len(hod.router.referrals(limit=1000)),
        hod.accounts.uninvited(),
    )


def sent_to_login(answer) -> bool:
    return answer.status_code in (302, 303) and answer.headers["location"].startswith("/login")


# -- the wrong user ------------------------------------------------------------------------------
def test_nobody_logged_in_is_sent_to_the_login_page_everywhere(app, world, hod):
    anonymous, before = world["anonymous"], snapshot(hod, world["reference"])
    for method, template in page_routes(app):
        path = fill(template, world)
        answer = visit(anonymous, method, path, csrf=False)
        assert answer.status_code < 500, (method, path, answer.text[:300])
        assert not leaks(answer.text), (method, path)
        if is_public(template):
            continue
        if answer.status_code in (302, 303) and not sent_to_login(answer):  # /agent, /operator
            answer = anonymous.get(answer.headers["location"])
        assert sent_to_login(answer), (method, path, answer.status_code)
        assert "why=need_login" in answer.headers["location"]
    assert snapshot(hod, world["reference"]) == before


def test_an_agent_never_reaches_an_operator_page(app, world, hod):
    before = snapshot(hod, world["reference"])
    for name in ("maria", "luis"):
        for method, template in page_routes(app):
            if not template.startswith("/operator"):
                continue
            answer = visit(world[name], method, fill(template, world))
            assert answer.status_code < 500, (name, method, template, answer.text[:300])
            assert not leaks(answer.text)
            if template == "/operator":
                answer = world[name].get(answer.headers["location"])
            assert sent_to_login(answer) or answer.status_code == 403, (name, template)
            assert "why=not_operator" in answer.headers.get("location", "why=not_operator")
    assert snapshot(hod, world["reference"]) == before  # Luis not suspended by Maria


def test_an_operator_never_reaches_an_agent_page(app, world, hod):
    before = snapshot(hod, world["reference"])
    for method, template in page_routes(app):
        if not template.startswith(("/agent", "/terms")):
            continue
        answer = visit(world["ops"], method, fill(template, world))
        assert answer.status_code < 500, (method, template, answer.text[:300])
        if template == "/agent":
            answer = world["ops"].get(answer.headers["location"])
        assert sent_to_login(answer), (method, template, answer.status_code)
        assert "why=not_agent" in answer.headers["location"]
    assert snapshot(hod, world["reference"]) == before


def _every_page_as(browser, app, world, prefix=""):
    """Every page under `prefix` (GETs only: a POST may change what is shown), no 5xx;
    the texts of the answers."""
    texts = []
    for method, template in page_routes(app):
        if method == "GET" and template.startswith(prefix):
            answer = visit(browser, method, fill(template, world))
            assert answer.status_code < 500, (template, answer.text[:300])
            texts.append((template, answer.text))
    return texts


def test_another_agent_never_sees_the_referral_nor_touches_it(app, world, hod):
    reference, luis = world["reference"], world["luis"]
    before = snapshot(hod, reference)
    for method, template in page_routes(app):
        if "{referral_id}" in template and template.startswith("/agent"):
            answer = visit(luis, method, fill(template, world))
            assert answer.status_code in (303, 404), (method, template, answer.text[:300])
            assert "error=refused" in answer.headers.get("location", "error=refused")
            assert not leaks(answer.text)
    assert snapshot(hod, reference) == before  # not accepted, rejected or moved by Luis
    # Maria accepts through her page; Luis still sees nothing of it, anywhere.
    accepted = visit(world["maria"], "POST", f"/agent/referrals/{reference}/accept")
    assert accepted.status_code == 303 and "done=accepted" in accepted.headers["location"]
    assert hod.router.referral(reference).status.value == "accepted"
    maria_page = world["maria"].get("/agent/referrals").text
    assert "Zelinda" in maria_page and "zelinda.q@example.com" in maria_page  # L3: hers now
    for template, text in _every_page_as(luis, app, world):
        assert not leaks(text), (template, leaks(text))
    moved = visit(
        luis, "POST", f"/agent/referrals/{reference}/status", data={"status": "completed"}
    )
    assert moved.status_code == 303 and "error=" in moved.headers["location"]
    assert hod.router.referral(reference).status.value == "accepted"


def test_a_pending_offer_shows_no_contact_data_to_its_agent(app, world):
    for template, text in _every_page_as(world["maria"], app, world, "/agent"):
        assert not leaks(text), (template, leaks(text))


def test_an_operator_page_never_shows_contact_data(app, world, hod):
    reference = world["reference"]
    assert visit(world["maria"], "POST", f"/agent/referrals/{reference}/accept").status_code == 303
    assert hod.router.referral(reference).consumer.first_name == "Zelinda"  # stored, not shown
    pages = _every_page_as(world["ops"], app, world, "/operator")
    why = world["ops"].get("/operator/why", params={"referral": reference, "npn": "1000001"})
    assert why.status_code == 200
    for template, text in [*pages, ("/operator/why?...", why.text)]:
        assert not leaks(text), (template, leaks(text))
    assert any(reference in text for _, text in pages)  # the referral itself is listed


# -- CSRF ----------------------------------------------------------------------------------------
def test_a_cookie_post_without_the_csrf_token_is_refused_and_changes_nothing(app, world, hod):
    before = snapshot(hod, world["reference"])
    forged = world["luis"].csrf  # a real token, of another session
    for method, template in page_routes(app):
        if method != "POST" or is_public(template):
            continue
        browser = world["ops"] if template.startswith("/operator") else world["maria"]
        path = fill(template, world)
        for token in (None, "", forged):
            data = {"status": "completed"} if token is None else {CSRF_FIELD: token}
            answer = browser.post(path, data=data)
            assert answer.status_code == 403, (template, token, answer.status_code)
            assert not leaks(answer.text)
        header = browser.post(path, headers={CSRF_HEADER: forged})
        assert header.status_code == 403, (template, "forged header")
    assert snapshot(hod, world["reference"]) == before
    # Still logged in: the refused log-out did not end the session.
    assert world["maria"].get("/agent/referrals").status_code == 200
    # The control: with the form's own token the same posts get past the check
    # (multipart too, where the token is a field among the file's).
    posts = sorted(
        (t for m, t in page_routes(app) if m == "POST" and not is_public(t)),
        key=lambda t: t == "/logout",
    )
    for template in posts:
        browser = world["ops"] if template.startswith("/operator") else world["maria"]
        answer = visit(browser, "POST", fill(template, world))
        assert answer.status_code not in (401, 403), template
        assert "why=" not in answer.headers.get("location", ""), template  # not sent to log in
    upload = visit(world["ops"], "POST", "/operator/import", files={"agents": ("a.jsonl", b"")})
    assert upload.status_code not in (401, 403), upload.text[:300]


# -- hostile forms -------------------------------------------------------------------------------
FIELDS = (  # every field of every page form
    "first_name", "last_name", "phone", "email", "zip", "language", "state", "login",
    "password", "next", "token", "username", "password_confirm", "contact_method",
    "street_address", "languages", "states", "status", "reason", "today", "until", "back",
    "start", "end", "from", "to", "no_end", "npns", "all", "decision", "agents", "mon_on",
    "mon_start", "mon_end",
)  # fmt: skip
BIG = "x" * 15_000  # four of them stay under the body limit: the route itself reads them
MARKERS = ("\x00", "\u202e", "x" * 1000, "\x1b[31m")


def _form(value) -> list[tuple[str, str]]:
    return [(name, value) for name in FIELDS]


HOSTILE: list[tuple[str, dict]] = [
    ("missing fields", {"data": {}}),
    *(  # four fields at a time, every field in turn
        (f"big {FIELDS[i]}..", {"data": {name: f"/{BIG}" for name in FIELDS[i : i + 4]}})
        for i in range(0, len(FIELDS), 4)
    ),
    ("over the limit", {"data": {"first_name": "x" * 100_000}}),
    ("control characters", {"data": _form("Zelinda\x1b[31m\x07\r\n\t\x7f")}),
    ("NUL", {"data": _form("Zel\x00inda")}),
    ("bidi override", {"data": _form("\u202eadnileZ")}),
    ("duplicate fields", {"content": "&".join(f"{n}=1&{n}=2" for n in FIELDS).encode()}),
    ("non-UTF-8", {"content": b"first_name=%ff%fe&login=\xff\xfe&npns=\xc3\x28&zip=%C3%28"}),
    ("broken escapes", {"content": b"%%%&&&=\xff&first_name=%"}),
    ("JSON body", {"json": {**ZELINDA, "first_name": "\u202eZelinda\x00"}}),
    ("text/plain", {"content": b"first_name=Zelinda", "headers": {"Content-Type": "text/plain"}}),
    ("broken multipart", {"content": b"--x\r\nbroken", "multipart": "x"}),
    ("a file for a field", {"files": {"first_name": ("a.txt", b"Zelinda\x00")}}),
    ("a non-JSONL file", {"files": {"agents": ("../../etc/passwd", b"\x00\xff" * 100)}}),
]


def _send(browser, path, how: dict, token: str = ""):
    """`how` posted to `path`; `token` an invitation's, sent with every form to /register
    so the hostile fields reach the sign-up itself."""
    how = dict(how)
    if token and isinstance(how.get("data"), dict):
        how["data"] = {**how["data"], "token": token}
    elif token and isinstance(how.get("data"), list):
        how["data"] = [*how["data"], ("token", token)]  # the last value of a field counts
    headers = dict(how.pop("headers", {}))
    boundary = how.pop("multipart", None)
    if boundary:
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif "content" in how and "Content-Type" not in headers:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if getattr(browser, "csrf", None):  # past the CSRF check, to the route itself
        headers[CSRF_HEADER] = browser.csrf
    return browser.post(path, headers=headers, **how)


def _counts(hod, reference):
    _, agents, *rest = snapshot(hod, reference)
    return len(agents), *rest


def _stored_text(hod) -> str:
    """Every agent, account and referral as stored, for the hostile values."""
    return repr(
        (
            list(hod.router.plugins.hook.hod_store_agents(after=0)),
            hod.accounts.hook.hod_store_accounts(role=None),
            hod.router.referrals(limit=1000),
        )
    )


def test_hostile_form_posts_never_get_a_5xx_nor_store_anything(app, world, hod, make_agent):
    make_agent("1000003", "77030")
    invitation = hod.accounts.invite("1000003").link.split("token=", 1)[1]
    assert world["anonymous"].get("/register", params={"token": invitation}).status_code == 200
    posts = [t for m, t in page_routes(app) if m == "POST"]
    posts.sort(key=lambda t: t == "/logout")  # last: it ends the session
    counts = _counts(hod, world["reference"])
    for template in posts:
        if template.startswith("/operator"):
            browser = world["ops"]
        elif is_public(template):
            browser = world["anonymous"]
        else:
            browser = world["maria"]
        path = fill(template, world)
        for name, how in HOSTILE:
            answer = _send(browser, path, how, invitation if path == "/register" else "")
            assert answer.status_code < 500, (template, name, answer.text[:300])
            assert all(marker not in answer.text for marker in MARKERS[2:]), (template, name)
            assert len(answer.content) < 60_000, (template, name, "an answer echoing the body")
    assert _counts(hod, world["reference"]) == counts  # no agent, referral, account, invitation
    stored = _stored_text(hod)
    assert all(marker not in stored for marker in MARKERS), "a hostile value was stored"


def test_hostile_query_strings_never_get_a_5xx_nor_an_echo(app, world, hod):
    """Every GET page, with each of its query parameters hostile, as the user it is for."""
    before = _counts(hod, world["reference"])
    gets = [
        (template, [p.name for p in route.dependant.query_params])
        for route in _routes(app)
        for method, template in [("GET", route.path)]
        if method in (getattr(route, "methods", None) or ()) and not route.path.startswith(SKIP)
    ]
    assert any(names for _, names in gets)
    for template, names in gets:
        browser = world["ops"] if template.startswith("/operator") else world["maria"]
        for value in (f"/{BIG}", "\x00\u202e\x1b[31m", "%ff\udcff".encode("utf-8", "replace")):
            answer = browser.get(fill(template, world), params=dict.fromkeys(names, value))
            assert answer.status_code < 500, (template, value[:20], answer.text[:300])
            echoed = answer.text + answer.headers.get("location", "")
            assert MARKERS[2] not in echoed, (template, "the hostile value given back whole")
    assert _counts(hod, world["reference"]) == before


def test_hostile_path_parameters_never_get_a_5xx(app, world):
    """Every page with a path parameter, each filled with what no link of ours holds."""
    odd = ("%00", "%E2%80%AE", "..%2F..%2Fetc", "%ff%fe", "x" * 5000, "-1", "99999999999999999999")
    for method, template in page_routes(app):
        if "{" not in template:
            continue
        browser = world["ops"] if template.startswith("/operator") else world["maria"]
        for value in odd:
            path = re.sub(r"{\w+}", value, template)
            answer = visit(browser, method, path)
            assert answer.status_code < 500, (method, path[:80], answer.text[:300])
            assert not leaks(answer.text)
