"""The issue's scenarios in headless Chromium, each against its own `hod serve`.

Each saves a screenshot (PNG) of its key page under the test's tmp_path and
checks every page it visits with axe-core (no serious or critical violation).
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from hod_core.domain.models import DisplayOption

from .conftest import PHONE, log_in


def consumer_page(browser, locale: str):
    context = browser.new_context(viewport=PHONE, locale=locale)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    return tab


def ask_for_help(
    tab, server, first="Ana", last="Ruiz", phone="(713) 555-0100", zip_code="77002", es=True
):
    tab.goto(server.url("/get-contacted"))
    tab.get_by_label("Nombre" if es else "First Name", exact=True).fill(first)
    tab.get_by_label("Apellido" if es else "Last Name", exact=True).fill(last)
    tab.get_by_label("Número de teléfono" if es else "Phone Number").fill(phone)
    tab.get_by_label("Correo electrónico" if es else "Email", exact=True).fill(
        f"{first.lower()}@example.com"
    )
    tab.get_by_label("Código postal" if es else "Zip Code").fill(zip_code)
    tab.get_by_label("Idioma" if es else "Language").select_option("es" if es else "en")
    tab.get_by_role("button", name=re.compile("Get Contacted")).click()
    expect(tab.locator("#status")).to_be_visible()  # the request is stored: its status page


def test_spanish_consumer_nearest_agent_accepts_and_completes(browser, launch, page, shot):
    def seed(s):
        s.agent("1000001", "77030", first_name="Maria", last_name="Lopez")  # 7 km from 77002
        s.agent("1000002", "77494", first_name="Kate", last_name="Katy")  # 45 km
        s.register("1000001", "maria")
        s.register("1000002", "kate")

    server = launch(seed)
    consumer = consumer_page(browser, "es-MX")
    consumer.goto(server.url("/get-contacted"))
    expect(consumer.locator("html")).to_have_attribute("lang", "es")
    shot(consumer, "get-contacted-es")
    ask_for_help(consumer, server)
    expect(consumer.locator("#status")).to_have_text("Enviada a un agente")
    shot(consumer, "status-es")

    log_in(page, server, "maria")
    expect(page.get_by_role("heading", name="Manage Referrals")).to_be_visible()
    offer = page.locator(".card.pending")
    expect(offer.get_by_role("heading")).to_have_text("New Referral")
    countdown = offer.locator(".countdown")
    expect(countdown).to_have_text(re.compile(r"^1[45] min \d\d s left to accept$"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=5_000)  # it counts down live
    assert "Ana" not in page.content()  # no contact data before accepting (L3)
    shot(page, "manage-referrals-pending")

    offer.get_by_role("button", name="Accept").click()
    accepted = page.locator(".card", has_text="Ana Ruiz")
    expect(accepted).to_contain_text("+17135550100")
    expect(accepted).to_contain_text("ana@example.com")
    accepted.get_by_role("button", name="In Progress").click()
    expect(page.locator(".card", has_text="Ana Ruiz").locator(".status")).to_have_text(
        "In Progress"
    )
    page.locator(".card", has_text="Ana Ruiz").get_by_role(
        "button", name="Referral Completed"
    ).click()
    expect(page.locator(".card", has_text="Ana Ruiz").locator(".status")).to_have_text(
        "Referral Completed"
    )
    shot(page, "manage-referrals")

    consumer.reload()
    expect(consumer.locator("#status")).to_have_text("Completada")


def test_expired_offer_shows_missed_referral_without_contact_data_and_the_l8_banner(
    browser, launch, page, shot
):
    def seed(s):
        s.agent("1000001", "77030", first_name="Maria", last_name="Lopez")
        s.agent("1000002", "77494", first_name="Kate", last_name="Katy")
        s.register("1000001", "maria")

    server = launch(seed)
    consumer = consumer_page(browser, "en-US")
    ask_for_help(consumer, server, es=False)
    server.advance(minutes=16)  # the offer window (15 minutes) passes: L5

    log_in(page, server, "maria")
    missed = page.locator(".card.missed")
    expect(missed).to_have_count(1, timeout=20_000)  # the server's sweep records the miss
    expect(missed.get_by_role("heading")).to_have_text("Missed Referral")
    assert "Ana" not in page.content() and "ana@example.com" not in page.content()
    expect(page.locator("#missed-alert")).to_have_text(
        re.compile(r"^Alert! You have missed 1 referral in the last 7 days\.")
    )
    shot(page, "manage-referrals-missed")


def test_out_of_office_sends_the_next_consumer_elsewhere_and_today_on_brings_a_waiting_one(
    browser, launch, page, shot
):
    def seed(s):
        s.agent("1000001", "77030", first_name="Maria", last_name="Lopez")
        s.agent("1000002", "77494", first_name="Kate", last_name="Katy", languages=("en",))
        s.register("1000001", "maria")
        s.register("1000002", "kate")

    server = launch(seed)
    log_in(page, server, "maria")
    page.get_by_role("link", name="Availability Settings").click()
    page.get_by_label("From Date/Time").fill("2026-11-23T09:00")
    page.get_by_label("No End Date").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#ooo-periods")).to_contain_text("no end date")
    shot(page, "availability-out-of-office")

    consumer = consumer_page(browser, "en-US")
    ask_for_help(
        consumer, server, first="Bob", zip_code="77002", es=False
    )  # English: Kate may take it
    expect(consumer.locator("#status")).to_have_text("Sent to an agent")
    page.get_by_role("link", name="Manage Referrals").click()
    expect(page.locator(".card.pending")).to_have_count(0)  # it went to someone else

    page.get_by_role("link", name="Availability Settings").click()
    page.get_by_role("button", name="Switch Out of Office off").click()
    page.get_by_role("button", name="Switch off").first.click()  # Today's Availability: off
    expect(page.locator("#today-state")).to_contain_text("Off")
    ask_for_help(
        consumer_page(browser, "es-MX"), server, first="Eva", zip_code="77002"
    )  # Spanish: only Maria
    page.get_by_role("link", name="Manage Referrals").click()
    expect(page.locator(".card.pending")).to_have_count(0)  # she is off today: it waits (L10)

    page.get_by_label("Stop Referrals").fill("18:00")
    page.get_by_role("button", name="Switch on").click()
    expect(page.locator("#today-state")).to_contain_text("Stop Referrals at")
    page.get_by_role("link", name="Manage Referrals").click()
    expect(page.locator(".card.pending")).to_have_count(1, timeout=20_000)  # the waiting one came
    shot(page, "manage-referrals-today-on")


def test_registration_names_each_failed_r3_rule_then_succeeds_and_an_expired_link_is_refused(
    launch, page, shot
):
    links = {}

    def seed(s):
        s.agent("1000001", "77030", first_name="Maria", last_name="Lopez")
        s.agent("1000002", "77494", first_name="Kate", last_name="Katy")
        links["maria"] = s.invitation("1000001")
        links["kate"] = s.invitation("1000002")

    server = launch(seed)
    server.advance(hours=49)  # past R1's 48 hours for both links...
    page.goto(server.url(links["kate"]))
    expect(page.locator(".notice.bad")).to_contain_text("has expired")
    shot(page, "register-expired")
    server.advance(hours=-49)  # ...and back: Maria's is fresh again

    page.goto(server.url(links["maria"]))
    expect(page.get_by_label("First Name")).to_have_value("Maria")
    expect(page.get_by_label("First Name")).to_have_attribute("readonly", "")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password", exact=True).fill("aaaa1234")
    rules = page.locator("#password-rules")
    expect(rules.locator("li.unmet")).to_have_count(4)  # ticked live, as typed
    page.get_by_label("Confirm Password").fill("aaaa1234")
    page.get_by_label("I read and agree to Help On Demand Terms of Use").check()
    page.get_by_label(
        "I read and agree to the CMS Help On Demand Agents and Brokers Terms of Use"
    ).check()
    page.get_by_role("button", name="Sign Up").click()
    expect(page.locator(".notice.bad")).to_be_visible()
    failed = page.locator("#password-rules li.unmet")
    expect(failed).to_have_count(4)  # the server's answer marks the same rules
    for text in (
        "Contains at least one upper case letter",
        "Contains at least one special character",
        "Contains no more than three repetitive characters",
        "Contains no more than three sequential characters",
    ):
        expect(page.locator("#password-rules li.unmet", has_text=text)).to_have_count(1)
    shot(page, "register-weak-password")

    page.get_by_label("Password", exact=True).fill("Sunny-Day42")
    expect(rules.locator("li.met")).to_have_count(8)
    page.get_by_label("Confirm Password").fill("Sunny-Day42")
    page.get_by_role("button", name="Sign Up").click()
    expect(
        page.get_by_role("heading", name="Your registration is almost complete!")
    ).to_be_visible()
    expect(page.locator("#test-text")).to_contain_text("a test text message was sent")
    shot(page, "register-done")
    page.get_by_role("link", name="Log in and Continue").click()
    log_in(page, server, "maria", "Sunny-Day42")
    expect(page.get_by_role("heading", name="Manage Referrals")).to_be_visible()


def test_find_local_help_hides_an_option_2_street_address_and_never_lists_option_4(
    launch, page, shot
):
    def seed(s):
        s.agent(
            "1000001", "77030", first_name="Olivia", last_name="One", street_address="1 Main St"
        )
        s.agent("1000002", "77002", first_name="Tomas", last_name="Two", street_address="2 Elm St",
                display_option=DisplayOption(2))  # fmt: skip
        s.agent(
            "1000004",
            "77004",
            first_name="Fiona",
            last_name="Four",
            display_option=DisplayOption(4),
        )

    server = launch(seed)
    page.goto(server.url("/find-local-help"))
    page.get_by_label("Zip Code").fill("77002")
    page.get_by_role("button", name="Search").click()
    cards = page.locator("ol.cards > li")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_contain_text("Tomas Two")  # nearest first
    expect(cards.nth(0).locator(".address")).to_have_count(0)  # D2: option 2, no street address
    expect(cards.nth(1).locator(".address")).to_contain_text("1 Main St")  # option 1 shows it
    assert "Fiona" not in page.content()  # D3: option 4, never listed
    shot(page, "find-local-help")


def test_why_explorer_names_the_rule_that_excluded_an_agent(launch, page, shot):
    def seed(s):
        s.agent("1000001", "77030", first_name="Maria", last_name="Lopez")
        s.agent("1000002", "77002", first_name="Ed", last_name="English", languages=("en",))
        s.operator("ops")

    server = launch(seed)
    consumer = page.context.browser.new_context(viewport=PHONE, locale="es-MX").new_page()
    ask_for_help(consumer, server)
    log_in(page, server, "ops")
    page.get_by_role("link", name="Referrals").click()
    page.locator("table a").first.click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    referral = page.url.rsplit("/", 1)[1]
    page.locator("#main").get_by_role("link", name="Why explorer").click()
    expect(page.get_by_label("Referral")).to_have_value(referral)
    page.get_by_label("Agent NPN").fill("1000002")
    page.get_by_role("button", name="Explain").click()
    expect(page.locator("#verdict")).to_have_text("Not eligible: first failing rule E9.")
    expect(page.locator("#rule-E9 td").first).to_have_text("fails")
    shot(page, "why-explorer")
