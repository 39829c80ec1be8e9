"""`hod serve --demo`: the whole system on a laptop, with nothing to set up.

The first run fills a demo data folder (default `./hod-demo`): synthetic
agents on real ZIP centroids across the HealthCare.gov states, two demo
agents in Houston who take referrals at any hour, one operator, and the two
agents' accounts, registered through the real invitation flow (R1-R5). A
secret key is made for the folder. Notices go to the in-app outbox instead
of email, text or app servers. Every run prints the URL, the credentials and
the `curl` commands to try; the credentials are kept in `demo.json` so a
second run prints the same ones.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from pathlib import Path
from typing import Any

from attrs import evolve

from hod_core.extend.plugins import require_installed
from hod_core.server.context import Hod
from hod_core.server.server_settings import ServerSettings
from hod_core.testing.synthetic import Synthesizer

DEMO_DIR = Path("hod-demo")
CREDENTIALS = "demo.json"
SECRET_FILE = "secret_key"
SYNTHETIC_AGENTS = 2000
OPERATOR_LOGIN = "operator"
ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
DEMO_AGENTS = (  # both at 77002 (downtown Houston): the nearest to a Houston consumer
    {"npn": "1000001", "first_name": "Maria", "last_name": "Lopez", "languages": ["es", "en"]},
    {"npn": "1000002", "first_name": "James", "last_name": "Carter", "languages": ["en", "es"]},
)


def demo_settings(settings: ServerSettings, data_dir_given: bool) -> ServerSettings:
    """The demo's settings: its own folder, its own key, the outbox as the only notifier.

    A missing store adapter is refused before the folder is made: a start-up
    that fails leaves no demo folder behind."""
    require_installed([settings.store, "outbox"])
    data_dir = settings.data_dir if data_dir_given else DEMO_DIR
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_file = data_dir / SECRET_FILE
    if not key_file.exists():
        _write_private(key_file, secrets.token_urlsafe(32))
    return evolve(
        settings,
        data_dir=data_dir,
        secret_key=settings.secret_key or key_file.read_text().strip(),
        notifiers=("outbox",),
        notifier_settings={},
    )


def seed(hod: Hod) -> dict[str, Any]:
    """Fill an empty demo folder once; the credentials, from the folder's demo.json."""
    path = hod.settings.data_dir / CREDENTIALS
    if path.exists():
        return json.loads(path.read_text())
    synthesizer = Synthesizer(seed=2026)
    for data in synthesizer.agents(SYNTHETIC_AGENTS):
        hod.router.put_agent(data, actor="demo")
    for person in DEMO_AGENTS:
        hod.router.put_agent(_demo_agent(person), actor="demo")
    credentials = {"operator": {"login": OPERATOR_LOGIN, "password": _password()}, "agents": []}
    hod.accounts.create_operator(OPERATOR_LOGIN, credentials["operator"]["password"])
    for person in DEMO_AGENTS:
        credentials["agents"].append(_register(hod, person))
    _write_private(path, json.dumps(credentials, indent=2))
    return credentials


def _write_private(path: Path, text: str) -> None:
    """Write a new file that only its owner reads (0600 from its creation, whatever
    the umask): the secret key and the demo's passwords are never readable by others."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text)


def _demo_agent(person: dict[str, Any]) -> dict[str, Any]:
    npn = person["npn"]
    return {
        **person,
        "email": f"{person['first_name'].lower()}.{person['last_name'].lower()}@example.com",
        "phone": f"+1713555{npn[-4:]}",
        "street_address": "1 Main St",
        "zip": "77002",
        "home_state": "TX",
        "display_option": 2 if npn.endswith("2") else 1,
        "licenses": [
            {
                "state": "TX",
                "lines_of_authority": ["Accident & Health"],
                "active": True,
                "expires_on": "2030-12-31",
            }
        ],
        "contact_method": "email_text_app",
        "participation": {
            "plan_year": 2026,
            "hod_training": True,
            "npn_on_ffm_list": True,
            "terms_accepted": False,  # set by registration, once both terms are accepted (R5)
        },
        "availability": {"weekly": ALL_DAY},  # a demo works at any hour
    }


def _register(hod: Hod, person: dict[str, Any]) -> dict[str, str]:
    """Invite the agent (the email lands in the outbox) and sign up with the link."""
    from hod_core.server.accounts.registration import RegistrationForm

    invited = hod.accounts.invite(person["npn"])
    token = invited.link.rsplit("token=", 1)[1]
    login = person["first_name"].lower()
    password = _password()
    form = RegistrationForm(
        username=login,
        password=password,
        password_confirm=password,
        phone=f"+1713555{person['npn'][-4:]}",
        contact_method="email_text_app",
        zip="77002",
        hod_terms_of_use=True,
        agent_broker_terms_of_use=True,
    )
    hod.accounts.register(token, form)
    return {"npn": person["npn"], "login": login, "password": password}


def _password() -> str:
    """A random password that keeps every R3 rule (shuffled until it does)."""
    from hod_core.server.accounts.passwords import failed_rules

    alphabet = string.ascii_letters + string.digits
    while True:
        core = "".join(secrets.choice(alphabet) for _ in range(10))
        candidate = f"{core[:5]}-{secrets.choice(string.digits)}{core[5:]}Q"
        if not failed_rules(candidate) and any(c.islower() for c in candidate):
            return candidate


def banner(hod: Hod, credentials: dict[str, Any]) -> str:
    """What `hod serve --demo` prints: where to go, who to be, what to try."""
    url = hod.settings.base_url
    operator = credentials["operator"]
    lines = [
        "",
        f"hod-core demo: {url}   (API docs: {url}/docs; data: {hod.settings.data_dir})",
        f"  operator: {operator['login']} / {operator['password']}",
    ]
    for agent in credentials["agents"]:
        lines.append(f"  agent {agent['npn']}: {agent['login']} / {agent['password']}")
    first = credentials["agents"][0]
    field = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"{}\"])'"
    consumer = '{"first_name":"Ana","last_name":"Ruiz","phone":"+17135550100",' + (
        '"email":"ana@example.com","zip":"77002","language":"es"}'
    )
    login = f'{{"login":"{first["login"]}","password":"{first["password"]}","token":true}}'
    bearer = '-H "Authorization: Bearer $TOKEN"'
    lines += [
        "",
        "Try it with curl (a consumer asks for help, the agent accepts and completes it):",
        f"  REF=$(curl -s -X POST {url}/api/v1/referrals -H 'Content-Type: application/json' \\",
        f"    -d '{consumer}' | {field.format('reference')})",
        f"  TOKEN=$(curl -s -X POST {url}/api/v1/login -H 'Content-Type: application/json' \\",
        f"    -d '{login}' | {field.format('token')})",
        f"  curl -s {url}/api/v1/agent/referrals {bearer}",
        f"  curl -s -X POST {url}/api/v1/agent/referrals/$REF/accept {bearer}",
        f"  curl -s -X POST {url}/api/v1/agent/referrals/$REF/status {bearer} \\",
        """    -H 'Content-Type: application/json' -d '{"status":"completed"}'""",
        f"Every notice the server would have sent: {url}/api/v1/operator/outbox (as the operator)",
        "",
    ]
    return "\n".join(lines)
