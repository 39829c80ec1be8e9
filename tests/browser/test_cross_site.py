"""What another site can make a browser do, in headless Chromium against `hod serve`:
its page posting our log-in form (login CSRF) logs nobody in, while our own
form does; and the API docs at /docs load nothing from outside the server.

The other site is `http://evil.example`, answered by Playwright inside the
browser (`route.fulfill`): no request leaves the machine."""

from __future__ import annotations

import html

from playwright.sync_api import expect

from .conftest import PHONE, log_in

EVIL = "http://evil.example"


def _seed(s):
    s.agent("1000001", "77030", first_name="Maria", last_name="Lopez")
    s.register("1000001", "maria")


def _session_cookies(context) -> list[dict]:
    return [c for c in context.cookies() if c["name"] == "hod_session"]


def test_another_sites_form_cannot_log_the_browser_in(browser, launch):
    server = launch(_seed)
    context = browser.new_context(viewport=PHONE, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    sent: list[dict] = []
    tab.on("request", lambda r: sent.append(r.headers) if r.method == "POST" else None)

    # The victim opened our log-in page before (the log-in nonce cookie is set):
    # the trap must not ride on it.
    tab.goto(server.url("/login"))
    trap = f"""<!doctype html><html><body>
      <form id="f" method="post" action="{html.escape(server.url("/login"))}">
        <input name="login" value="maria"><input name="password" value="Sunny-Day42">
        <input name="csrf_token" value="guessed"><button>win a prize</button>
      </form></body></html>"""
    context.route(f"{EVIL}/**", lambda route: route.fulfill(body=trap, content_type="text/html"))
    tab.goto(f"{EVIL}/prize")
    with tab.expect_navigation() as landed:
        tab.get_by_role("button", name="win a prize").click()
    assert landed.value.status == 403
    expect(tab.get_by_role("alert")).to_contain_text("came from another website")
    assert _session_cookies(context) == []
    assert sent[-1].get("origin") == EVIL  # what the server judged

    # Our own form, in the same browser, logs in.
    log_in(tab, server, "maria")
    expect(tab).to_have_url(server.url("/agent/referrals"))
    assert len(_session_cookies(context)) == 1
    assert sent[-1].get("origin") == "null"  # Referrer-Policy: no-referrer; the token decides
    context.close()


def test_the_api_docs_load_only_from_this_server(launch, page):
    server = launch()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server.url("/docs"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("hod-core")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()  # the endpoints, listed
    page.wait_for_load_state("networkidle")
    assert requested and all(url.startswith(server.base + "/") for url in requested), requested
    assert server.url("/docs/assets/swagger-ui-bundle.js") in requested
    assert server.url("/openapi.json") in requested
