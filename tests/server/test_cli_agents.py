"""The operator's account commands, run as `hod ...` in-process on a real data folder."""

from __future__ import annotations

import json

import orjson
import pytest
from attrs import evolve

from hod_core.cli import main
from hod_core.domain.account_records import Account
from hod_core.server.accounts.registration import RegistrationForm
from hod_core.server.commands.server_commands import open_hod
from hod_core.testing import samples
from hod_core.wire import unstructure

from .conftest import PASSWORD


@pytest.fixture
def folder(tmp_path):
    """A data folder and a config file: the in-app outbox instead of email."""
    config = tmp_path / "hod.toml"
    config.write_text(
        'notifiers = ["outbox"]\nfreeze_gc = false\ndelivery_threads = 0\n'
        'public_url = "https://hod.example.org"\n'
    )
    return ["--config", str(config), "--data-dir", str(tmp_path / "data")]


def run_hod(capsys, *argv):
    """Run `hod argv...`: (exit code, stdout as JSON or text, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    try:
        return code, json.loads(out), err
    except ValueError:
        return code, out, err


def write_agents(path, agents, bad_line: str | None = None):
    lines = [orjson.dumps(unstructure(a)).decode() for a in agents]
    if bad_line is not None:
        lines.insert(1, bad_line)
    path.write_text("\n".join(lines) + "\n")
    return str(path)


class Opened:
    """The folder's state, read as `hod serve` would."""

    def __init__(self, folder):
        args = type("Args", (), {"config": folder[1], "data_dir": folder[3]})
        self.hod = open_hod(args)

    def __enter__(self):
        return self.hod

    def __exit__(self, *exc):
        self.hod.router.close()


# -- import ------------------------------------------------------------------------------
def test_import_saves_every_agent_and_no_one_gets_referrals_before_registering(
    capsys, tmp_path, folder
):
    agents = [samples.agent(str(n)) for n in range(1, 4)]
    file = write_agents(tmp_path / "agents.jsonl", agents)
    code, out, _ = run_hod(capsys, "agents", "import", file, *folder)
    assert code == 0
    assert out == {"file": "agents.jsonl", "imported": 3, "new": 3, "updated": 0, "registered": 0}
    with Opened(folder) as hod:
        stored = {a.npn: a for _, a in hod.router.hook.hod_store_agents(after=0)}
    assert set(stored) == {"1", "2", "3"}
    assert not any(a.participation.terms_accepted for a in stored.values())  # R5
    assert stored["2"].first_name == "Jane" and stored["2"].licenses == agents[1].licenses


def test_a_bad_line_names_file_line_and_field_and_imports_nothing(capsys, tmp_path, folder):
    bad = orjson.dumps({**unstructure(samples.agent("9")), "zip": "ABCDE"}).decode()
    file = write_agents(tmp_path / "agents.jsonl", [samples.agent("1"), samples.agent("2")], bad)
    code, _, err = run_hod(capsys, "agents", "import", file, *folder)
    assert code == 2
    assert err.startswith("hod: agents.jsonl:2: zip: ")
    assert err.count("\n") == 1  # one line, no traceback
    with Opened(folder) as hod:
        assert list(hod.router.hook.hod_store_agents(after=0)) == []


def test_a_repeated_npn_is_a_bad_line(capsys, tmp_path, folder):
    file = write_agents(
        tmp_path / "a.jsonl", [samples.agent("1"), samples.agent("2"), samples.agent("1")]
    )
    code, _, err = run_hod(capsys, "agents", "import", file, *folder)
    assert code == 2 and err.startswith("hod: a.jsonl:3: npn: duplicate NPN 1 (first on line 1)")


def test_a_missing_file_is_one_line(capsys, tmp_path, folder):
    code, _, err = run_hod(capsys, "agents", "import", str(tmp_path / "nope.jsonl"), *folder)
    assert code == 2 and "nope.jsonl" in err and "Traceback" not in err


def test_a_re_import_keeps_what_the_agent_and_the_operator_set(capsys, tmp_path, folder):
    file = write_agents(tmp_path / "agents.jsonl", [samples.agent("1"), samples.agent("2")])
    assert run_hod(capsys, "agents", "import", file, *folder)[0] == 0
    with Opened(folder) as hod:
        token = hod.accounts.invite("1").link.split("token=")[1]
        hod.accounts.register(
            token,
            RegistrationForm(
                username="jane",
                password=PASSWORD,
                password_confirm=PASSWORD,
                phone="7135550199",
                contact_method="email",
                zip="77002",
                hod_terms_of_use=True,
                agent_broker_terms_of_use=True,
            ),
        )
        hod.router.put_agent(evolve(hod.router.roster.agent("2"), suspended=True))
    renamed = [samples.agent(n, first_name="Janet", phone="+12222220000") for n in ("1", "2")]
    write_agents(tmp_path / "agents.jsonl", renamed)
    code, out, _ = run_hod(capsys, "agents", "import", file, *folder)
    assert (code, out["updated"], out["registered"]) == (0, 2, 1)
    with Opened(folder) as hod:
        one, two = hod.router.roster.agent("1"), hod.router.roster.agent("2")
    assert one.first_name == "Janet"  # from the file (MLMS)
    assert (one.phone, one.zip, one.contact_method.value) == ("+17135550199", "77002", "email")
    assert one.participation.terms_accepted is True  # registered, both terms (R5)
    assert two.phone == "+12222220000"  # not registered: the file's
    assert two.suspended is True  # an operator's suspension stands


# -- invite --------------------------------------------------------------------------------
@pytest.fixture
def imported(capsys, tmp_path, folder):
    file = write_agents(tmp_path / "agents.jsonl", [samples.agent(str(n)) for n in range(1, 4)])
    assert run_hod(capsys, "agents", "import", file, *folder)[0] == 0
    return folder


def outbox(folder, kind="invitation"):
    with Opened(folder) as hod:
        return [n for n in reversed(hod.outbox.notices()) if n["kind"] == kind]


def test_invite_emails_a_link_and_prints_it_when_asked(capsys, imported):
    code, out, _ = run_hod(capsys, "agents", "invite", "1", "2", "--print-links", *imported)
    assert code == 0 and [e["npn"] for e in out["invited"]] == ["1", "2"]
    link = out["invited"][0]["link"]
    assert link.startswith("https://hod.example.org/register?token=")
    emails = outbox(imported)
    assert [(e["npn"], e["to"], e["link"]) for e in emails][0] == ("1", "agent1@example.com", link)
    code, out, _ = run_hod(capsys, "agents", "invite", "3", *imported)
    assert "link" not in out["invited"][0]  # only with --print-links


def test_a_re_invite_replaces_the_pending_link(capsys, imported):
    first = run_hod(capsys, "agents", "invite", "1", "--print-links", *imported)[1]
    second = run_hod(capsys, "agents", "invite", "1", "--print-links", *imported)[1]
    old, new = (r["invited"][0]["link"].split("token=")[1] for r in (first, second))
    with Opened(imported) as hod:
        with pytest.raises(Exception, match="no such link"):
            hod.accounts.invitation(old)
        assert hod.accounts.invitation(new)[1].npn == "1"


def test_invite_all_skips_agents_with_an_account(capsys, imported):
    with Opened(imported) as hod:
        hod.accounts.hook.hod_store_create_account(
            account=_account("2", hod), invitation_hash=None, now=hod.now()
        )
    code, out, _ = run_hod(capsys, "agents", "invite", "--all", *imported)
    assert code == 0 and [e["npn"] for e in out["invited"]] == ["1", "3"]
    code, out, _ = run_hod(capsys, "agents", "invite", "2", *imported)
    assert out["invited"] == [] and out["skipped"][0]["npn"] == "2"  # R1: a returning agent
    assert [e["npn"] for e in outbox(imported)] == ["1", "3"]


def _account(npn, hod):
    return Account("acc-" + npn, "agent", "agent" + npn, "x", hod.now(), npn=npn)


def test_invite_refuses_unknown_agents_and_sends_nothing(capsys, imported):
    code, _, err = run_hod(capsys, "agents", "invite", "1", "77", *imported)
    assert code == 2 and "77" in err
    assert outbox(imported) == []
    assert run_hod(capsys, "agents", "invite", *imported)[0] == 2  # neither NPNs nor --all


# -- operators ------------------------------------------------------------------------------
def test_operators_add_from_a_password_file(capsys, tmp_path, folder):
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    code, out, _ = run_hod(
        capsys, "operators", "add", "Ops", "--password-file", str(secret), *folder
    )
    assert code == 0 and out["login"] == "ops" and out["role"] == "operator"
    with Opened(folder) as hod:
        token, account = hod.accounts.login("ops", PASSWORD, "127.0.0.1", "bearer")
    assert account.role == "operator"
    code, _, err = run_hod(
        capsys, "operators", "add", "ops", "--password-file", str(secret), *folder
    )
    assert code == 2 and "taken" in err


def test_operators_add_keeps_r3(capsys, tmp_path, folder):
    weak = tmp_path / "pw"
    weak.write_text("password\n")
    code, _, err = run_hod(capsys, "operators", "add", "ops", "--password-file", str(weak), *folder)
    assert code == 2
    assert "Contains at least one number" in err and "special character" in err


def test_operators_add_prompts_twice(capsys, monkeypatch, folder):
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    code, _, err = run_hod(capsys, "operators", "add", "ops", *folder)
    assert code == 2 and "do not match" in err


# -- read-only commands, a missing folder, not found -------------------------------------
READERS = (
    ["agents", "list"],
    ["agents", "show", "1"],
    ["referrals", "list"],
    ["referrals", "show", "r1"],
    ["why", "r1", "1"],
    ["deliveries"],
)


@pytest.fixture
def no_env(monkeypatch):
    for name in ("HOD_NOTIFIERS", "HOD_DATA_DIR", "HOD_CONFIG", "HOD_STORE"):
        monkeypatch.delenv(name, raising=False)


def test_read_only_commands_need_no_notifier(capsys, tmp_path, folder, no_env):
    file = write_agents(tmp_path / "agents.jsonl", [samples.agent("1"), samples.agent("2")])
    assert run_hod(capsys, "agents", "import", file, *folder)[0] == 0
    bare = tmp_path / "bare.toml"
    bare.write_text("freeze_gc = false\n")  # no notifier: `hod serve` refuses it (L2)
    settings = ["--config", str(bare), "--data-dir", folder[3]]
    code, out, err = run_hod(capsys, "agents", "list", *settings)
    assert code == 0 and out["total"] == 2, err
    code, out, err = run_hod(capsys, "agents", "show", "2", *settings)
    assert code == 0 and out["npn"] == "2", err
    for argv in (["referrals", "list"], ["deliveries"]):
        code, out, err = run_hod(capsys, *argv, *settings)
        assert code == 0 and err == "" and isinstance(out, dict), (argv, err)
    code, _, err = run_hod(capsys, "agents", "suspend", "2", *settings)  # a write may notify
    assert code == 2 and "no notifier sends email" in err


def test_a_missing_data_folder_is_one_line_and_never_made(
    capsys, tmp_path, folder, monkeypatch, no_env
):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "nowhere"
    for argv in READERS:
        code, out, err = run_hod(capsys, *argv, "--config", folder[1], "--data-dir", str(missing))
        assert code == 2 and out == "" and err.count("\n") == 1, (argv, err)
        assert f"data_dir {missing} does not exist" in err
        code, out, err = run_hod(capsys, *argv, "--config", folder[1])  # default: ./hod-data
        assert code == 2 and out == "" and "data_dir hod-data does not exist" in err, (argv, err)
    assert not missing.exists() and not (tmp_path / "hod-data").exists()


def test_not_found_exits_3_not_2_like_a_usage_error(capsys, tmp_path, folder):
    file = write_agents(tmp_path / "agents.jsonl", [samples.agent("1")])
    assert run_hod(capsys, "agents", "import", file, *folder)[0] == 0
    for argv, words in (
        (["agents", "show", "999"], "no agent with NPN 999"),
        (["agents", "suspend", "999"], "no agent with NPN 999"),
        (["referrals", "show", "r1"], "no referral r1"),
        (["why", "r1", "1"], "no referral r1"),
    ):
        code, out, err = run_hod(capsys, *argv, *folder)
        assert code == 3 and out == "" and err.count("\n") == 1 and words in err, (argv, err)
    code, _, err = run_hod(capsys, "agents", "show", *folder)  # a usage error stays 2
    assert code == 2 and "(see hod agents show --help)" in err
