"""deploy/: the systemd unit and the nginx site, checked by the tools that run them.

`systemd-analyze verify` and `nginx -t` read the files as systemd and nginx
would; a real `hod serve` then answers through nginx on loopback, over TLS.
Without the tools (tools/test installs them) these tests skip, except in CI.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from hod_core.server.commands.serve import GRACEFUL_SHUTDOWN_S
from hod_store_sqlite import SqliteStore

from .test_serve import READY, Server, free_port

DEPLOY = Path(__file__).parents[2] / "deploy"
UNIT = DEPLOY / "systemd" / "hod.service"
BACKUP_UNIT = DEPLOY / "systemd" / "hod-backup.service"
UNITS = ("hod.service", "hod-backup.service", "hod-backup.timer")
SITE = DEPLOY / "nginx" / "hod.conf"
KEY = "k" * 40


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing: tools/test installs it (SYSTEM_PACKAGES)")
        pytest.skip(f"{name} is not installed")
    return found


def unit_entries(path: Path = UNIT) -> dict[str, list[str]]:
    """`Key=value` lines of a unit, every value of each key (keys repeat)."""
    entries: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            entries.setdefault(key.strip(), []).append(value.strip())
    return entries


def test_the_unit_runs_hod_serve_hardened_and_stops_it_gracefully():
    unit = unit_entries()
    assert unit["ExecStart"] == ["/opt/hod/bin/hod serve --config /etc/hod/hod.toml"]
    assert unit["EnvironmentFile"] == ["/etc/hod/hod.env"]  # the secret key, not in the unit
    assert "HOD_SECRET_KEY" not in UNIT.read_text().replace("HOD_SECRET_KEY=...", "")
    assert "HOD_HOST=127.0.0.1" in unit["Environment"][0].split()  # behind the proxy
    for key, value in {
        "DynamicUser": "yes",
        "StateDirectory": "hod",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "Restart": "on-failure",
        "RestartPreventExitStatus": "2",  # a bad setting: a restart would repeat it
        "KillSignal": "SIGTERM",
        "CapabilityBoundingSet": "",
    }.items():
        assert unit[key] == [value], key
    assert "HOD_DATA_DIR=/var/lib/hod" in unit["Environment"][0].split()  # the StateDirectory
    assert "ReadWritePaths" not in unit  # nothing writable but the state folder
    # systemd waits longer than the server's own graceful stop before SIGKILL.
    assert int(unit["TimeoutStopSec"][0]) > GRACEFUL_SHUTDOWN_S


def test_systemd_analyze_verifies_the_units_and_rates_the_server_hardened(tmp_path):
    analyze = tool("systemd-analyze")
    hod = Path(sys.executable).with_name("hod")  # the hod command of this environment
    assert hod.is_file()
    # verify checks that ExecStart's program exists: point it at this environment's.
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text()
        (tmp_path / name).write_text(text.replace("/opt/hod/bin/hod", str(hod)))
    verify = subprocess.run(
        [analyze, "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
    )
    assert (verify.returncode, verify.stderr) == (0, "")
    # Exposure 0 (locked down) to 10 (none); --threshold is on a 0 to 100 scale.
    security = subprocess.run(
        [analyze, "security", "--offline=yes", "--threshold=20", str(tmp_path / "hod.service")],
        capture_output=True,
        text=True,
    )
    assert security.returncode == 0, security.stdout[-500:]
    assert re.search(r"Overall exposure level for hod.service: [01]\.\d OK", security.stdout)


def test_the_backup_unit_writes_a_backup_of_the_weekday(tmp_path):
    """hod-backup.service's command as systemd runs it ($$ and %% unescaped),
    with this environment's hod and the folders in tmp_path."""
    unit = unit_entries(BACKUP_UNIT)
    (command,) = unit["ExecStart"]
    assert unit["User"] == ["hod"]  # hod.service's user and state folder, and the backups'
    assert unit["StateDirectory"] == ["hod hod-backups"]
    data, backups, config = tmp_path / "data", tmp_path / "backups", tmp_path / "hod.toml"
    backups.mkdir()
    config.write_text('notifiers = ["outbox"]\n')
    command = command.replace("$$", "$").replace("%%", "%")
    command = command.replace("/opt/hod/bin/hod", str(Path(sys.executable).with_name("hod")))
    command = command.replace("/var/lib/hod-backups", str(backups))
    command = command.replace("/etc/hod/hod.toml", str(config))
    argv = shlex.split(command)
    assert argv[:2] == ["/bin/sh", "-c"]
    env = {**os.environ, "HOD_DATA_DIR": str(data)}
    data.mkdir()
    SqliteStore(data / "hod.sqlite3").close()  # the service's store
    weekday = subprocess.run(["date", "+%a"], capture_output=True, text=True).stdout.strip()
    for _ in range(2):  # the second replaces the first (--force)
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stderr.startswith("backed up ")
    assert [p.name for p in backups.iterdir()] == [f"hod-{weekday}.sqlite3"]


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=hod.example.org", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def nginx_conf(tmp_path: Path, *, upstream: int, http: int, https: int) -> Path:
    """The deploy/ site with its certificate, ports and upstream made local, in a
    main configuration that keeps every file nginx writes in `tmp_path`."""
    cert, key = self_signed(tmp_path)
    site = SITE.read_text()
    site = site.replace("/etc/letsencrypt/live/hod.example.org/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/hod.example.org/privkey.pem", str(key))
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)  # loopback: IPv4 only
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http};")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;")
    (tmp_path / "hod.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    temp = "".join(
        f"    {kind}_temp_path {tmp_path / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
        "daemon off;\nworker_processes 1;\nevents { worker_connections 64; }\n"
        f"http {{\n    access_log off;\n{temp}    include {tmp_path / 'hod.conf'};\n}}\n"
    )
    return main


def test_nginx_accepts_the_site(tmp_path):
    nginx = tool("nginx")
    main = nginx_conf(tmp_path, upstream=8000, http=free_port(), https=free_port())
    check = subprocess.run(
        [nginx, "-t", "-c", str(main), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    assert "syntax is ok" in check.stderr and "test is successful" in check.stderr


def test_hod_serve_answers_through_nginx_over_tls(tmp_path):
    nginx = tool("nginx")
    server = Server(
        "serve",
        "--data-dir",
        str(tmp_path / "data"),
        env={"HOD_SECRET_KEY": KEY, "HOD_NOTIFIERS": "outbox", "HOD_FREEZE_GC": "false"},
    )
    http, https = free_port(), free_port()
    main = nginx_conf(tmp_path, upstream=server.port, http=http, https=https)
    proxy = subprocess.Popen(
        [nginx, "-c", str(main), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        server.wait_for(READY)
        _wait_listening(proxy, tmp_path / "nginx.pid")
        with httpx.Client(verify=False, timeout=10) as client:
            health = client.get(f"https://127.0.0.1:{https}/healthz")
            assert health.status_code == 200 and health.http_version == "HTTP/1.1"
            assert health.headers["strict-transport-security"] == "max-age=63072000"
            assert health.headers["server"] == "nginx"  # no version (server_tokens off)

            plain = client.get(f"http://127.0.0.1:{http}/healthz")
            assert plain.status_code == 301
            assert plain.headers["location"] == "https://127.0.0.1/healthz"

            # Larger than client_max_body_size: refused by nginx, never sent on.
            big = client.post(
                f"https://127.0.0.1:{https}/api/v1/referrals",
                content=b"{" + b" " * 70_000 + b"}",
                headers={"content-type": "application/json"},
            )
            assert big.status_code == 413
            assert "nginx" in big.text

            token = "secret-status-token-0123456789"
            assert client.get(f"https://127.0.0.1:{https}/status/{token}").status_code == 404
            assert client.get(f"https://127.0.0.1:{https}/register?token={token}").status_code
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        assert server.stop() == 0
    access = (tmp_path / "hod.access.log").read_text()
    assert access.count(" GET 404 ") == 1 and access.count(" POST 413 ") == 1
    assert token not in access and "/status/" not in access  # no paths, no tokens


def _wait_listening(proxy: subprocess.Popen, pid_file: Path) -> None:
    """Until nginx writes its pid file, which it does once its ports are bound."""
    for _ in range(400):
        if pid_file.exists():
            return
        try:
            proxy.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"nginx stopped: {proxy.stderr.read()}")
    raise AssertionError("nginx wrote no pid file in 20 s")
