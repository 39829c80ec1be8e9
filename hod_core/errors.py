"""The error types a caller of hod_core needs to tell apart.

Every error that comes from bad input (an agents file, a consumer request, a
rule file) is an `InputError`: its message names the field path and, when the
input came from a file, the file and line, so a person can fix it without
reading Python. The CLI prints it as one line and exits 2.
"""

from __future__ import annotations

import json
import math
from itertools import islice
from typing import Any

# An error is one line a person reads: a value in it is cut to an excerpt,
# and the whole line to a terminal's width.
MAX_EXCERPT_CHARS = 64  # a quoted value; text in it is cut at 40 characters
MAX_ERROR_CHARS = 190
_NO_VALUE: Any = object()


class HodError(Exception):
    """Base class of every error hod_core raises on purpose."""


class InputError(HodError, ValueError):
    """Bad input: names where (file:line), which field, and what is wrong.

    A message that quotes the value writes `{value}` where it goes and
    passes `value=`: it is shown as a short excerpt, or, for `private`
    fields (a consumer's name, phone, email: rule P1), only as its kind.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str = "",
        source: str = "",
        line: int | None = None,
        value: Any = _NO_VALUE,
        private: bool = False,
    ):
        self.message = (
            message
            if value is _NO_VALUE
            else message.replace("{value}", excerpt(value, private=private))
        )
        # A private value is not kept either: error reporters log attributes.
        self.template = self.message if private else message
        self.value = _NO_VALUE if private else value
        self.private = private
        self.field = field
        self.source = source
        self.line = line
        super().__init__(self.render())

    @property
    def quotes_a_value(self) -> bool:
        """Whether the message holds an excerpt of the value (never a private one)."""
        return self.value is not _NO_VALUE

    def render(self) -> str:
        where = self.source
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        parts = [p for p in (where, self.field) if p]
        return one_line(": ".join([*parts, self.message]))

    def located(
        self,
        *,
        source: str = "",
        line: int | None = None,
        prefix: str = "",
        private: bool = False,
    ) -> InputError:
        """The same error, placed in a file/line, nested under `prefix`,
        and with its value hidden from here on if `private`."""
        field = ".".join(p for p in (prefix, self.field) if p).replace(".[", "[")
        return InputError(
            self.template,
            field=field,
            source=source or self.source,
            line=self.line if line is None else line,
            value=self.value,
            private=self.private or private,
        )


class PolicyError(InputError):
    """A rule file that cannot be loaded; `problems` lists every error found."""

    def __init__(self, problems: list[InputError]):
        self.problems = problems
        first = problems[0]
        super().__init__(first.message, field=first.field, source=first.source, line=first.line)

    def render(self) -> str:
        return "\n".join(p.render() for p in getattr(self, "problems", [])) or super().render()


def one_line(text: str, most: int = MAX_ERROR_CHARS) -> str:
    """`text` safe for a terminal or a log: one line, no control or bidi
    characters (escaped instead), at most `most` characters."""
    text = text[: most * 2]  # escaping only lengthens: no need to look further
    if not text.isprintable():
        text = "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)
    return text if len(text) <= most else text[: most - 3] + "..."


def excerpt(value: Any, *, private: bool = False) -> str:
    """A value as an error may quote it: JSON, cut short; only its kind if private."""
    if private:
        return kind_of(value)
    text = _sketch(value, levels=2)
    return text if len(text) <= MAX_EXCERPT_CHARS else text[: MAX_EXCERPT_CHARS - 3] + "..."


def _sketch(value: Any, levels: int) -> str:
    """Bounded work whatever the value: a few items of a few levels, strings cut."""
    if value is None or type(value) is bool:
        return json.dumps(value)
    if type(value) is int:
        bits = value.bit_length()
        return (
            str(value) if bits <= 128 else f"a number of about {int(bits * math.log10(2))} digits"
        )
    if type(value) is float:
        return json.dumps(value)
    if type(value) is str:
        if len(value) <= 40:
            return json.dumps(value, ensure_ascii=False)
        cut = json.dumps(value[:30], ensure_ascii=False)[:-1]
        return f'{cut}..." ({len(value):,} characters)'
    if type(value) is list:
        items = [_sketch(v, levels - 1) if levels else "..." for v in value[:3]]
        return "[" + ", ".join(items + ["..."] * (len(value) > 3)) + "]"
    if type(value) is dict:
        items = [
            f"{_sketch(k, 0)}: {_sketch(v, levels - 1) if levels else '...'}"
            for k, v in islice(value.items(), 3)
        ]
        return "{" + ", ".join(items + ["..."] * (len(value) > 3)) + "}"
    return kind_of(value)


def kind_of(value: Any) -> str:
    """What a value is, never what it says."""
    kinds = {str: "a string", int: "a number", float: "a number", bool: "true or false"}
    kinds |= {list: "a list", dict: "an object", type(None): "null"}
    return kinds.get(type(value)) or f"a Python {type(value).__name__}"[:60]


class LifecycleError(HodError):
    """A referral action that the lifecycle refuses (L1-L11).

    `rule` names the lifecycle rule that refuses it (L3, L6, ...), so a host
    can show the agent why, and tests can assert on the rule, not the words.
    """

    def __init__(self, message: str, *, rule: str = ""):
        self.message = message
        self.rule = rule
        super().__init__(f"{rule}: {message}" if rule else message)


class OfferExpired(LifecycleError):
    """An accept or reject came after the offer window closed (L3, L5)."""


class NotFound(LifecycleError):
    """No such referral, or no offer of it to this agent."""


class ConfigurationError(HodError):
    """The plugins given to a router cannot run it: a required hook is missing,
    implemented twice, or misspelled. Raised at start-up, never mid-referral."""


class DeliveryFailed(HodError):
    """A channel could not deliver a notice, and whether trying again can help.

    Notifier adapters raise it: `transient` for what may pass (a timeout, a
    dropped connection, an SMTP 4xx, an HTTP 429 or 5xx), not for what will
    not (a refused address, bad credentials). `retry_after` is the far end's
    own advice in seconds (HTTP Retry-After). `code` is the far end's code (an
    SMTP reply code, a Twilio error code): it goes into the delivery record,
    so neither it nor the message may hold an address, a token or a password.
    """

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        code: str = "",
        retry_after: float | None = None,
    ):
        self.message = message
        self.transient = transient
        self.code = code
        self.retry_after = retry_after
        super().__init__(f"{message} ({code})" if code else message)


class StoreError(ConfigurationError):
    """The store cannot serve: its file is not a hod-core store, is damaged,
    has a newer schema, or cannot be written. Raised at start-up, naming the
    path and the problem in one line a CLI or a server can print."""


class StoreUnavailable(HodError):
    """The store cannot be reached now (a database down or restarting), or a
    write's outcome is unknown. Nothing is half-done: the caller may try again.
    Store adapters raise it (or a subclass); a server answers 503."""
