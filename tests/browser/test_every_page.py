"""Every page, in English and in Spanish (switched by the header's link, no
script needed), checked with axe-core; and the operator's import with its
progress bar."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from hod_core.testing import samples
from hod_core.wire import unstructure

from .conftest import log_in
from .test_scenarios import ask_for_help

PUBLIC = ["/", "/get-contacted", "/find-local-help?zip=77002&radius=25", "/login",
          "/password/forgot"]  # fmt: skip
AGENT = ["/agent/referrals", "/agent/availability", "/agent/profile"]
OPERATOR = ["/operator/agents", "/operator/import", "/operator/invitations", "/operator/referrals",
            "/operator/waiting", "/operator/outbox"]  # fmt: skip


def _seed(links):
    def seed(s):
        s.agent("1000001", "77030", first_name="Maria", last_name="Lopez")
        s.agent("1000002", "77494", first_name="Kate", last_name="Katy")
        s.agent("1000003", "77004", first_name="Nora", last_name="New")
        s.register("1000001", "maria")
        s.register("1000002", "kate", terms=False)  # R5: registration incomplete
        s.operator("ops")
        links["register"] = s.invitation("1000003")

    return seed


def _walk(page, shot, server, paths, language):
    for path in paths:
        page.goto(server.url(path))
        expect(page.locator("html")).to_have_attribute("lang", language)
        name = path.strip("/").split("?")[0].replace("/", "-") or "home"
        shot(page, f"{name}-{language}")


def test_every_page_in_both_languages_passes_axe(browser, launch, page, shot):
    links = {}
    server = launch(_seed(links))
    consumer = browser.new_context(locale="es-MX").new_page()
    ask_for_help(consumer, server)
    status_path = consumer.url.split(str(server.port), 1)[1]

    for language in ("en", "es"):
        if language == "es":
            page.goto(server.url("/"))
            page.get_by_role("link", name="Español").click()  # the switch, remembered in a cookie
        _walk(page, shot, server, [*PUBLIC, status_path, links["register"]], language)
        page.goto(server.url("/get-contacted"))
        page.locator("form button[type=submit]").click()  # empty: every field marked
        expect(page.locator("[aria-invalid=true]").first).to_be_visible()
        shot(page, f"get-contacted-errors-{language}")

        log_in(page, server, "maria") if language == "en" else _log_in_es(page, server, "maria")
        _walk(page, shot, server, AGENT, language)
        page.locator("form[action='/logout'] button").click()

        _log_in_any(page, server, "kate", language)
        expect(page).to_have_url(server.url("/terms"))
        shot(page, f"terms-{language}")
        page.locator("form[action='/logout'] button").click()

        _log_in_any(page, server, "ops", language)
        _walk(page, shot, server, OPERATOR, language)
        page.goto(server.url("/operator/referrals"))
        page.locator("table a").first.click()
        shot(page, f"operator-referral-{language}")
        page.goto(server.url(f"/operator/why?referral={page.url.rsplit('/', 1)[1]}&npn=1000002"))
        shot(page, f"operator-why-{language}")
        page.locator("form[action='/logout'] button").click()


def _log_in_es(page, server, login):
    page.goto(server.url("/login"))
    page.get_by_label("Nombre de usuario").fill(login)
    page.get_by_label("Contraseña").fill("Sunny-Day42")
    page.get_by_role("button", name="Iniciar sesión").click()


def _log_in_any(page, server, login, language):
    (log_in if language == "en" else _log_in_es)(page, server, login)


def test_operator_imports_agents_with_a_progress_bar(launch, page, shot, tmp_path):
    server = launch(lambda s: s.operator("ops"))
    agents = tmp_path / "agents.jsonl"
    agents.write_text(
        "\n".join(
            json.dumps(unstructure(samples.agent(str(n), "77030"))) for n in range(2000001, 2000041)
        )
    )
    log_in(page, server, "ops")
    page.goto(server.url("/operator/import"))
    page.get_by_label("Agents file (.jsonl)").set_input_files(str(agents))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-result")).to_have_text("40 agents imported.")
    expect(page.locator("form[data-progress=import-progress] progress")).to_have_count(1)
    shot(page, "operator-import-done")
    page.goto(server.url("/operator/agents?q=20000"))
    expect(page.locator("tbody tr")).to_have_count(40)
