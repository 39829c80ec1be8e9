"""The reference server `hod serve`: a JSON API and web pages over the router.

Public: `create_app(settings, ...)`, the ASGI application, and its
settings: `load_settings` reads them from flags, `HOD_*` variables and the
TOML file into a `ServerSettings`::

    from hod_core.server import create_app, load_settings

    app = create_app(load_settings(config_file="hod.toml"))

Every module under `hod_core.server` is internal. Only the modules that
serve HTTP import the web framework (FastAPI); the settings, the outbox and
the command line do not, so `hod` without the `server` extra still runs and
says what to install; the three public names are therefore imported on
first use, not when this package is. The server may import all of
`hod_core` but the command line, and nothing of `hod_core` imports it but
`hod_core.cli`, which registers its commands (the contracts in
`.importlinter`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hod_core.server.app import create_app
    from hod_core.server.server_settings import ServerSettings, load_settings

__all__ = ["ServerSettings", "create_app", "load_settings"]

_DEFINED_IN = {
    "ServerSettings": "hod_core.server.server_settings",
    "create_app": "hod_core.server.app",
    "load_settings": "hod_core.server.server_settings",
}


def __getattr__(name: str):
    if name not in _DEFINED_IN:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_DEFINED_IN[name]), name)
