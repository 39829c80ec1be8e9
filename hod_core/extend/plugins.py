"""Finding and checking the plugins that serve a router.

Two ways in:
- installed adapters, through the `hod_core.adapters` entry-point group: each
  entry point names a factory `make(settings) -> plugin`, so one adapter can
  serve several routers with different settings (`load_adapter`);
- a host's own objects: any object whose `hod_*` methods match hook names,
  with or without pluggy's `hookimpl` marker (`PluginManager.register`).

`plugin_manager` refuses at start-up what would fail mid-referral: a
misspelled hook, a required hook nobody implements, a store hook
implemented twice, a store without `durable` or `close` (`hookspecs.StoreAdapter`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from types import SimpleNamespace

import pluggy

from hod_core.domain import channels as registry
from hod_core.errors import ConfigurationError
from hod_core.extend import hookspecs

ENTRY_POINT_GROUP = "hod_core.adapters"
# The distributions that bring this project's own adapters: a missing one's
# error names the package to install.
ADAPTER_PACKAGES = {
    "store_sqlite": "hod-store-sqlite",
    "store_postgres": "hod-store-postgres",
    "notify_email": "hod-notify-email",
    "notify_sms": "hod-notify-sms",
    "notify_webhook": "hod-notify-webhook",
}


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, also taking plain objects: every `hod_*` method is an impl.

    It knows the hook of every channel registered when it is made: those of
    the core channels are in `hookspecs`; an adapter's channel gets the same
    contract under its own hook name (`channel_spec`), added as a pytest
    plugin adds its hooks, with pluggy's `add_hookspecs`.
    """

    def __init__(self):
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        for channel in registry.channels():
            if not hasattr(hookspecs, channel.hook):
                self.add_hookspecs(SimpleNamespace(**{channel.hook: channel_spec(channel)}))

    def parse_hookimpl_opts(self, plugin, name: str):
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("hod_") and callable(getattr(plugin, name, None)):
            return {}  # a plain method: pluggy's default options
        return opts


def channel_spec(channel: registry.Channel):
    """The specification of an adapter's channel hook: that of every channel
    hook (see the notification channels in `hookspecs`), taking the notice."""

    def spec(notice) -> None:
        pass

    spec.__name__ = spec.__qualname__ = channel.hook
    spec.__doc__ = (
        f"Deliver `notice` on the {channel.name} channel to `notice.to`, "
        f"the agent's `{channel.address}`."
    )
    return hookspecs.hookspec(spec)


def adapter_names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def load_adapter(name: str, settings: Mapping[str, str] | None = None) -> object:
    """Build the installed adapter `name` (an entry point) with its settings.

    `name` may also be `module:factory`, an adapter not installed yet (one
    being written, an example): the factory is imported and called the same way.
    """
    if ":" in name:
        module, _, factory = name.partition(":")
        try:
            make = getattr(importlib.import_module(module), factory)
        except (ImportError, AttributeError) as exc:
            raise ConfigurationError(f"cannot load adapter factory {name!r}: {exc}") from None
        return make(dict(settings or {}))
    found = entry_points(group=ENTRY_POINT_GROUP, name=name)
    if not found:
        raise ConfigurationError(missing_adapter(name))
    (entry_point,) = found
    return entry_point.load()(dict(settings or {}))


def require_installed(names: Iterable[str]) -> None:
    """Refuse, before anything is made, adapter names that no installed package provides
    (`module:factory` names are checked when they are loaded)."""
    installed = set(adapter_names())
    for name in names:
        if ":" not in name and name not in installed:
            raise ConfigurationError(missing_adapter(name))


def missing_adapter(name: str) -> str:
    """What to say when no installed adapter is called `name`: which are, and what to install."""
    known = ", ".join(adapter_names()) or "none"
    package = ADAPTER_PACKAGES.get(name)
    hint = (
        f"install it with: python3 -m pip install {package}"
        if package
        else "install the package that provides it, or check the name"
    )
    return f"no adapter named {name!r} is installed (installed: {known}); {hint}"


def plugin_manager(
    plugins: Iterable[object], *, channels: Iterable[str] | None = None
) -> PluginManager:
    """A checked manager: a clock, one store, and a sender for each of
    `channels` (`default_channels` when None)."""
    plugins = list(plugins)
    manager = PluginManager()
    for plugin in plugins:
        try:
            manager.register(plugin)
        except pluggy.PluginValidationError as exc:
            raise ConfigurationError(f"{_name(plugin)}: {exc}") from None
    _check(manager, default_channels(plugins) if channels is None else tuple(channels))
    return manager


def default_channels(plugins: Iterable[object]) -> tuple[str, ...]:
    """The core channels, each of which needs a sender, and every other
    registered channel some plugin sends on: importing an adapter's module
    registers its channel without making it a sender every router needs."""
    plugins = list(plugins)
    return tuple(
        channel.name
        for channel in registry.channels()
        if channel.name in registry.CORE
        or any(callable(getattr(p, channel.hook, None)) for p in plugins)
    )


def _check(manager: PluginManager, wanted: tuple[str, ...]) -> None:
    problems = []
    for name, impls in _unknown(manager).items():
        problems.append(f"{', '.join(impls)} implement(s) {name}, which is not a hod hook")
    known = {c.name: c.hook for c in registry.channels()}
    unknown_channels = set(wanted) - set(known)
    if unknown_channels:
        problems.append(f"unknown channel(s): {', '.join(sorted(unknown_channels))}")
    required = ["hod_now", *hookspecs.STORE_HOOKS]
    required += [known[c] for c in wanted if c in known]
    for name in required:
        impls = getattr(manager.hook, name).get_hookimpls()
        if not impls:
            problems.append(f"no plugin implements {name}")
        elif len(impls) > 1 and (name == "hod_now" or name.startswith("hod_store_")):
            owners = ", ".join(_name(i.plugin) for i in impls)
            problems.append(f"{name} is implemented by more than one plugin ({owners})")
    store = store_of(manager)
    if store is not None and not isinstance(store, hookspecs.StoreAdapter):
        missing = [n for n in ("durable", "close") if not hasattr(store, n)]
        problems.append(f"the store {_name(store)} has no {' or '.join(missing)} (StoreAdapter)")
    if problems:
        raise ConfigurationError("cannot start: " + "; ".join(problems))


def _unknown(manager: PluginManager) -> dict[str, list[str]]:
    unknown: dict[str, list[str]] = {}
    for name in dir(manager.hook):
        caller = getattr(manager.hook, name)
        if isinstance(caller, pluggy.HookCaller) and not caller.has_spec():
            unknown[name] = [_name(i.plugin) for i in caller.get_hookimpls()]
    return unknown


def _name(plugin: object) -> str:
    return getattr(plugin, "__name__", None) or type(plugin).__name__


def store_of(manager: PluginManager) -> object | None:
    """The plugin serving the store hooks (the one implementing `hod_store_commit`)."""
    impls = manager.hook.hod_store_commit.get_hookimpls()
    return impls[0].plugin if impls else None


def bind_single(manager: PluginManager, names: Iterable[str]) -> SimpleNamespace:
    """The one implementation of each named hook, for direct calls.

    Clock and store hooks have exactly one implementation (start-up checks
    it), so there is nothing for pluggy's call loop to gather: calling the
    function itself spares it on the dozen store calls every referral makes.
    """
    return SimpleNamespace(
        **{name: getattr(manager.hook, name).get_hookimpls()[0].function for name in names}
    )
