"""The in-app outbox: a notifier that keeps every notice instead of sending it.

`hod serve --demo` delivers through it, so a newcomer sees every email, text
and app notice the server would have sent without an SMTP server or a Twilio
account; an operator reads them at `GET /api/v1/operator/outbox`. It is an
installed adapter like any other (`notifiers = ["outbox"]`), so a staging
server can use it too. Notices hold no consumer contact data (L2), so
neither does the file.

Each notice is one JSON line appended to `outbox.jsonl` in the data folder:
several server processes on one folder append whole lines, and a restart
keeps what was there.

An invitation or a password reset carries a live single-use link: whoever
holds it can take the account. An operator is shown such a link with its
token hidden (`hide_tokens`: that it was sent, to whom and when), except
under `--demo`, whose operator signs the demo's agents up with them.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from attrs import frozen

from hod_core.errors import ConfigurationError
from hod_core.extend.hookspecs import hookimpl
from hod_core.extend.settings import adapter_config
from hod_core.notify.notices import Notice
from hod_core.wire import unstructure

FILE_NAME = "outbox.jsonl"
HIDDEN = "hidden"  # what an operator sees in place of a link's token
READ_BACK_BYTES = 4 * 1024 * 1024  # the newest notices are at the end: read only this much


@frozen
class OutboxSettings:
    """Settings of the `outbox` adapter (environment variables HOD_OUTBOX_*)."""

    path: str = ""
    """The file that keeps the notices, one JSON line each; default: outbox.jsonl in
    the data folder (`data_dir`, which the server gives every adapter)."""


class StoredOutbox:
    """Every notice on every channel, kept in a JSONL file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One descriptor for the process, appending: each line is one write, so
            # lines from several processes do not interleave.
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.fchmod(self._fd, 0o600)  # whatever the umask, or the mode of a file copied in
        except OSError as exc:
            raise ConfigurationError(f"outbox: cannot write {self.path}: {exc.strerror}") from None
        weakref.finalize(self, os.close, self._fd)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> StoredOutbox:
        """The entry point's factory (`outbox`): `path`, or `data_dir` holding outbox.jsonl."""
        config = adapter_config(OutboxSettings, settings, env_prefix="HOD_OUTBOX_")
        path = config.path or (
            Path(settings["data_dir"]) / FILE_NAME if "data_dir" in settings else None
        )
        if path is None:
            raise ConfigurationError("outbox needs a `path` or `data_dir` setting")
        return cls(path)

    def _keep(self, notice: Notice) -> None:
        line = json.dumps(unstructure(notice), separators=(",", ":")) + "\n"
        with self._lock:
            os.write(self._fd, line.encode())

    @hookimpl
    def hod_notify_email(self, notice: Notice) -> None:
        self._keep(notice)

    @hookimpl
    def hod_notify_text(self, notice: Notice) -> None:
        self._keep(notice)

    @hookimpl
    def hod_notify_app(self, notice: Notice) -> None:
        self._keep(notice)

    def notices(self, limit: int = 100, npn: str | None = None) -> list[dict[str, Any]]:
        """The newest `limit` notices (of one agent, if `npn`), newest first."""
        with self.path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - READ_BACK_BYTES))
            tail = handle.read().decode("utf-8", errors="replace").splitlines()
        if size > READ_BACK_BYTES:
            tail = tail[1:]  # the first line read may be cut
        found = []
        for text in reversed(tail):
            try:
                notice = json.loads(text)
            except ValueError:
                continue  # a line cut by a crash mid-write
            if npn is None or notice.get("npn") == npn:
                found.append(notice)
                if len(found) >= limit:
                    break
        return found


def hide_tokens(notice: dict[str, Any]) -> dict[str, Any]:
    """The notice with every query value of its link hidden, when the link is an
    account's (an invitation, a reset: no referral): where it leads, not the way in.
    An offer's link names only the referral, which an agent must log in to see."""
    link = notice.get("link")
    if not isinstance(link, str) or notice.get("referral_id"):
        return notice
    parts = urlsplit(link)
    query = "&".join(f"{name}={HIDDEN}" for name, _ in parse_qsl(parts.query, True))
    shown = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return {**notice, "link": shown, "link_hidden": True}
