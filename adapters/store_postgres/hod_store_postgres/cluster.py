"""A throwaway PostgreSQL cluster on loopback, for tests, fault tests and benchmarks.

`initdb` in a temporary folder, `pg_ctl start` on a free 127.0.0.1 port with
password authentication (a random password) and no Unix socket, `pg_ctl
stop` and the folder removed afterwards. Nothing outside the folder is
touched, so it runs beside any PostgreSQL the machine already has.

PostgreSQL refuses to run as root (CI runs as root): then the server runs as
the unprivileged `postgres` system user that Debian's packages create, and
the folder is handed to it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

from hod_core import ConfigurationError

SEARCHED = "/usr/lib/postgresql/*/bin"  # Debian and Ubuntu: one folder per major version
SERVER_USER = "postgres"
START_TIMEOUT_S = 60


def find_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: $HOD_PG_BIN_DIR, the newest Debian
    /usr/lib/postgresql/N/bin, or the PATH. None when PostgreSQL is not installed."""
    named = os.environ.get("HOD_PG_BIN_DIR")
    if named:
        return Path(named)
    debian = sorted(
        (p for p in Path("/").glob(SEARCHED.lstrip("/")) if (p / "initdb").exists()),
        key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0),
    )
    if debian:
        return debian[-1]
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayCluster:
    """One PostgreSQL server in a temporary folder: `with ThrowawayCluster() as pg: pg.url()`.

    `durable=False` (tests) turns fsync off: a killed server still loses no
    committed transaction (the OS keeps its writes), only a machine crash
    would. `settings` are extra postgresql.conf lines (name -> value).
    """

    def __init__(self, *, durable: bool = False, settings: dict[str, str] | None = None):
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise ConfigurationError(
                "PostgreSQL is not installed (no initdb under "
                f"{SEARCHED} or on the PATH; set HOD_PG_BIN_DIR)"
            )
        self.bin_dir = bin_dir
        self.durable = durable
        self.settings = {"max_connections": "200", **(settings or {})}
        self.password = secrets.token_urlsafe(18)
        self.port = 0
        self.folder: Path | None = None
        self._as_user: dict = {}

    # -- life --------------------------------------------------------------------
    def __enter__(self) -> ThrowawayCluster:
        return self.start()

    def __exit__(self, *_) -> None:
        self.destroy()

    @property
    def data(self) -> Path:
        assert self.folder is not None, "the cluster was not started"
        return self.folder / "data"

    def start(self) -> ThrowawayCluster:
        """Create the cluster on first call; start the server (again)."""
        if self.folder is None:
            self._create()
        self._run("pg_ctl", "-D", self.data, "-l", self.folder / "server.log", "-w",
                  "-t", str(START_TIMEOUT_S), "start")  # fmt: skip
        return self

    def running(self) -> bool:
        return self.folder is not None and (self.data / "postmaster.pid").exists()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` (clients disconnected, a clean shutdown) or
        `immediate` (as a crash: recovery runs at the next start)."""
        if self.running():
            self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def destroy(self) -> None:
        """Stop the server and remove its folder."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def log(self) -> str:
        path = self.folder / "server.log" if self.folder else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    # -- clients -------------------------------------------------------------------
    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True)

    # -- making it ---------------------------------------------------------------
    def _create(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="hod-pg-"))
        if os.geteuid() == 0:  # initdb and postgres refuse root
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise ConfigurationError(
                    f"running as root, and there is no {SERVER_USER!r} user to run "
                    "PostgreSQL as (Debian's postgresql package creates it)"
                ) from None
            self._as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        password_file = self.folder / "password"
        password_file.write_text(self.password + "\n")
        if self._as_user:
            os.chown(password_file, self._as_user["user"], self._as_user["group"])
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=scram-sha-256",
                  f"--pwfile={password_file}", "-E", "UTF8", "--no-locale", "--no-sync",
                  "--no-instructions")  # fmt: skip
        password_file.unlink()
        self.port = free_port()
        lines = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "''",
            "fsync": "on" if self.durable else "off",
            "full_page_writes": "on" if self.durable else "off",
            **self.settings,
        }
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n# hod_store_postgres.cluster\n")
            conf.writelines(f"{name} = {value}\n" for name, value in lines.items())

    def _run(self, program: str, *args) -> None:
        done = subprocess.run(
            [str(self.bin_dir / program), *map(str, args)],
            capture_output=True,
            text=True,
            cwd=self.folder,
            **self._as_user,
        )
        if done.returncode:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise subprocess.CalledProcessError(
                done.returncode, program, "\n".join(tail), self.log()[-2000:]
            )
