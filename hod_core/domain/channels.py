"""The notification channels: each a name, the hook that sends on it, and the
agent field its notices are addressed to (L2, R4).

email, text and app are registered here. An adapter for another channel
registers it once, when its module is imported, with `register_channel`;
from then on:
- an agent may choose it: a contact method is "email" followed by any of
  the other registered channels, in the order they were registered, joined
  by "_" (seed 001: email is always one of them). So the seed's four values,
  `email_text_app`, `email_text`, `email_app` and `email`, read as they
  always do, and `email_whatsapp` reads once a `whatsapp` channel exists;
- a router's plugin manager knows the channel's hook (`hod_core.extend.plugins`
  adds its specification, as a pytest plugin adds its own hooks with pluggy's
  `add_hookspecs`) and delivers notices through it (`hod_core.notify.dispatch`).

The registry lives in `domain` because an agent's contact method is read
against it; it holds names only and imports nothing above `domain`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

import attrs
from attrs import Factory, field, frozen

from hod_core.errors import ConfigurationError

BASE = "email"  # in every contact method (seed 001)
SEPARATOR = "_"  # between the channels of a contact method's value
_NAME = re.compile(r"[a-z][a-z0-9]*\Z")  # no SEPARATOR: a value splits one way only
_HOOK = re.compile(r"hod_[a-z0-9_]+\Z")


@frozen
class Channel:
    """One way to reach an agent.

    `name`: how contact methods and events name it. `address`: the `Agent`
    field a notice on it is addressed to (`Notice.to`); a channel whose
    addresses the agent record does not hold (a device, a chat) uses "npn"
    and looks the agent up itself, as the app channel does. `hook`: the hook
    a sender implements, taking the notice (its contract is that of every
    channel hook in `hod_core.extend.hookspecs`). `labels`: how pages name
    the channel, by language (English when a language is missing).
    `registration_test`: R4, a test message on this channel when an agent
    whose contact method includes it registers.
    """

    name: str
    address: str
    hook: str = field(default=Factory(lambda self: f"hod_notify_{self.name}", takes_self=True))
    labels: Mapping[str, str] = field(factory=dict, converter=dict, eq=False)
    registration_test: bool = False

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("en") or self.name


_CORE = (
    Channel("email", "email", labels={"en": "Email", "es": "Correo electrónico"}),
    Channel(
        "text",
        "phone",
        labels={"en": "Text", "es": "Mensaje de texto"},
        registration_test=True,
    ),
    Channel("app", "npn", labels={"en": "App Notification", "es": "Notificación por aplicación"}),
)
_REGISTERED: dict[str, Channel] = {channel.name: channel for channel in _CORE}
CORE = tuple(_REGISTERED)  # a router sends on these unless told otherwise


def register_channel(channel: Channel) -> Channel:
    """Add `channel` to the registry. Registering an equal channel again does
    nothing (a module imported twice); another channel under a taken name or
    hook is refused, as is a name or an address field that cannot work."""
    from hod_core.domain.models import Agent  # models read contact methods from here

    problems = []
    if not _NAME.match(channel.name):
        problems.append(f"name {channel.name!r} must be lower-case letters and digits")
    if not _HOOK.match(channel.hook):
        problems.append(f"hook {channel.hook!r} must be a hod_ name in lower case")
    address = attrs.fields_dict(Agent).get(channel.address)
    if address is None or address.type not in ("str", str):
        problems.append(f"address {channel.address!r} is not a text field of Agent")
    taken = _REGISTERED.get(channel.name)
    if taken is not None and taken != channel:
        problems.append(f"name {channel.name!r} is registered with {taken}")
    hooks = {c.hook: c.name for c in _REGISTERED.values() if c.name != channel.name}
    if channel.hook in hooks:
        problems.append(f"hook {channel.hook!r} belongs to channel {hooks[channel.hook]!r}")
    if problems:
        raise ConfigurationError(f"channel {channel.name!r}: " + "; ".join(problems))
    _REGISTERED.setdefault(channel.name, channel)
    return channel


def unregister_channel(name: str) -> None:
    """Remove a channel an adapter registered (a test cleaning up after
    itself). The core channels stay; an unknown name is ignored. Agents
    whose contact method names the channel then fail to read."""
    if name in CORE:
        raise ConfigurationError(f"channel {name!r} is a core channel and stays registered")
    _REGISTERED.pop(name, None)


def channels() -> tuple[Channel, ...]:
    """Every registered channel, in the order registered (the core ones first)."""
    return tuple(_REGISTERED.values())


def channel_names() -> tuple[str, ...]:
    return tuple(_REGISTERED)


def channel(name: str) -> Channel:
    """The registered channel `name`; ConfigurationError naming the known ones."""
    try:
        return _REGISTERED[name]
    except KeyError:
        known = ", ".join(_REGISTERED)
        raise ConfigurationError(f"unknown channel {name!r} (registered: {known})") from None


def contact_method_channels(value: str) -> tuple[str, ...] | None:
    """The channels of a contact method's value, or None when it is not one:
    "email", then registered channels in registration order, each once."""
    names = value.split(SEPARATOR)
    if names[0] != BASE:
        return None
    order = {name: n for n, name in enumerate(_REGISTERED)}
    positions = [order.get(name) for name in names]
    if None in positions or positions != sorted(set(positions)):
        return None
    return tuple(names)


def contact_methods() -> list[str]:
    """Every contact method's value over the registered channels, most channels
    first: for the core ones, `email_text_app`, `email_text`, `email_app`, `email`."""
    others = [name for name in _REGISTERED if name != BASE]
    return [
        SEPARATOR.join([BASE, *(name for name, on in zip(others, chosen, strict=True) if on)])
        for chosen in itertools.product((True, False), repeat=len(others))
    ]
