"""The error types a caller of hod_core needs to tell apart.

Every error that comes from bad input (an agents file, a consumer request, a
rule file) is an `InputError`: its message names the field path and, when the
input came from a file, the file and line, so a person can fix it without
reading Python. The CLI prints it as one line and exits 2.
"""

from __future__ import annotations


class HodError(Exception):
    """Base class of every error hod_core raises on purpose."""


class InputError(HodError, ValueError):
    """Bad input: names where (file:line), which field, and what is wrong."""

    def __init__(self, message: str, *, field: str = "", source: str = "", line: int | None = None):
        self.message = message
        self.field = field
        self.source = source
        self.line = line
        super().__init__(self.render())

    def render(self) -> str:
        where = self.source
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        parts = [p for p in (where, self.field) if p]
        return ": ".join([*parts, self.message])

    def located(self, *, source: str = "", line: int | None = None, prefix: str = "") -> InputError:
        """The same error, placed in a file/line and nested under `prefix`."""
        field = ".".join(p for p in (prefix, self.field) if p).replace(".[", "[")
        return InputError(
            self.message,
            field=field,
            source=source or self.source,
            line=self.line if line is None else line,
        )


class PolicyError(InputError):
    """A rule file that cannot be loaded; `problems` lists every error found."""

    def __init__(self, problems: list[InputError]):
        self.problems = problems
        first = problems[0]
        super().__init__(first.message, field=first.field, source=first.source, line=first.line)

    def render(self) -> str:
        return "\n".join(p.render() for p in getattr(self, "problems", [])) or super().render()


class LifecycleError(HodError):
    """A referral action that the lifecycle refuses (SPEC section 4).

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
