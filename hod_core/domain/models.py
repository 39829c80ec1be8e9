"""The domain's value objects: agents, their licences and hours, consumers.

Frozen attrs classes; validation happens here, where a value enters, so an
object that exists is valid. Behaviour (eligibility, availability, ranking)
lives in the modules that take these objects.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from itertools import islice

from attrs import Attribute, Converter, field
from attrs import frozen as _frozen

from hod_core.domain import channels, limits, validate
from hod_core.domain.codes import WEEKDAYS
from hod_core.errors import InputError

# Value objects are never weakly referenced: no __weakref__ slot, 8 bytes less
# each (at 100k agents: 400k agents and licences, 3 MB).
frozen = _frozen(weakref_slot=False)


class DisplayOption(enum.IntEnum):
    """MLMS display option (seeds 000, 004): where the agent may be shown."""

    ALL_LICENSED_STATES = 1
    ALL_LICENSED_STATES_NO_STREET_ADDRESS = 2
    HOME_STATE_ONLY = 3
    NOT_PARTICIPATING = 4


class ContactMethod(enum.Enum):
    """Preferred contact method (seed 001): the channels an agent is told on.

    The value names them, email first, joined by "_" (`hod_core.domain.channels`).
    The members are the seed's four; a value with a channel an adapter
    registered (`email_whatsapp`) reads as a member made on first use and
    kept, as `enum.Flag` makes its combinations, so a stored or imported
    value reads the same way whichever channels it names.
    """

    EMAIL_TEXT_APP = "email_text_app"
    EMAIL_TEXT = "email_text"
    EMAIL_APP = "email_app"
    EMAIL = "email"

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.value.split(channels.SEPARATOR))

    @classmethod
    def _missing_(cls, value):
        if type(value) is not str or channels.contact_method_channels(value) is None:
            return None
        method = _COMBINED.get(value)
        if method is None:
            method = object.__new__(cls)
            method._value_ = value
            method._name_ = value.upper()
            method = _COMBINED.setdefault(value, method)  # one object per value, across threads
        return method

    @classmethod
    def allowed(cls) -> list[str]:
        """Every value that reads, over the channels registered now."""
        return channels.contact_methods()


_COMBINED: dict[str, ContactMethod] = {}  # contact methods with a registered channel


def _at_index(check, index: int, value):
    try:
        return check(value)
    except InputError as exc:
        raise exc.located(prefix=f"[{index}]") from None


def _tuple_of(check):
    def convert(values):
        if type(values) is list or type(values) is tuple:  # the usual: skip the ABC checks
            items = values
        elif isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
            raise InputError("expected a list, got {value}", value=values)
        else:
            items = tuple(islice(values, limits.MAX_ITEMS + 1))
        if len(items) > limits.MAX_ITEMS:
            raise InputError(f"more than {limits.MAX_ITEMS} entries")
        return tuple(_at_index(check, i, v) for i, v in enumerate(items))

    return convert


def _named(convert):
    """A field converter whose InputError names the field it was converting
    (and never quotes the value of a field marked private)."""

    def run(value, _self, attribute: Attribute):
        try:
            return convert(value)
        except InputError as exc:
            private = attribute.metadata.get("private", False)
            raise exc.located(prefix=attribute.name, private=private) from None

    return Converter(run, takes_self=True, takes_field=True)


# A consumer's contact data (rule P1): errors name the field, never the value.
PRIVATE = {"private": True}


def member(enum_type, what: str):
    """Convert to an enum member with a readable error listing the allowed values.

    Strict: the value must have the members' own type, so `true` or `1.0`
    is not taken for display option 1.
    """
    value_type = type(next(iter(enum_type)).value)

    def convert(value):
        if isinstance(value, enum_type):
            return value
        if type(value) is value_type:
            try:
                return enum_type(value)
            except ValueError:
                pass
        values = enum_type.allowed() if hasattr(enum_type, "allowed") else enum_type
        allowed = ", ".join(repr(getattr(v, "value", v)) for v in values)
        raise InputError(f"{what} must be one of {allowed}, got {{value}}", value=value)

    return convert


def _optional(check):
    return lambda value: None if value is None else check(value)


def _optional_set(check):
    return lambda values: None if values is None else frozenset(_tuple_of(check)(values))


def _end_after_start(instance, attribute: Attribute, end: int) -> None:
    if end <= instance.start:
        word = "equals" if end == instance.start else "is before"
        raise InputError(f"end {validate.hhmm(end)} {word} start {validate.hhmm(instance.start)}")


@frozen
class Interval:
    """[start, end) in minutes since local midnight; 24:00 is 1440."""

    start: int
    end: int = field(validator=_end_after_start)


@frozen
class Break:
    """ "Add a Break": hours subtracted from the weekly ones; `days` None = every day."""

    start: int
    end: int = field(validator=_end_after_start)
    days: frozenset[str] | None = field(
        default=None, converter=_named(_optional_set(validate.weekday))
    )


def _weekly(value: Mapping[str, tuple[Interval, ...]] | None):
    if value is None:
        return None
    for day in value:
        validate.weekday(day)
    return {day: tuple(value[day]) for day in WEEKDAYS if day in value}


@frozen
class TodayOverride:
    """ "Today's Availability" switch for one local date (A2)."""

    date: date
    on: bool
    since: datetime | None = None  # switched at; None = from the start of that day
    until: datetime | None = None  # "Stop Referrals"; None = to the end of that day

    def __attrs_post_init__(self):
        if self.since and self.until and self.until <= self.since:
            raise InputError(
                f"until {self.until.isoformat()} is not after since {self.since.isoformat()}"
            )


@frozen
class OutOfOffice:
    """An out-of-office period [start, end); end None = "No End Date" (A1)."""

    start: datetime
    end: datetime | None = None

    def __attrs_post_init__(self):
        if self.end is not None and self.end <= self.start:
            raise InputError(
                f"to {self.end.isoformat()} is not after from {self.start.isoformat()}"
            )

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@frozen
class Availability:
    """Weekly hours (None = never saved: policy default, A4), breaks, override, OOO."""

    weekly: Mapping[str, tuple[Interval, ...]] | None = field(
        default=None, converter=_named(_weekly)
    )
    breaks: tuple[Break, ...] = field(default=(), converter=tuple)
    today: TodayOverride | None = None
    out_of_office: tuple[OutOfOffice, ...] = field(default=(), converter=tuple)


@frozen
class License:
    """A state producer licence with its lines of authority (LOA)."""

    state: str = field(converter=_named(validate.state))
    lines_of_authority: tuple[str, ...] = field(
        converter=_named(_tuple_of(validate.line_of_authority))
    )
    active: bool = True
    expires_on: date | None = None


@frozen
class Participation:
    """Marketplace participation for a plan year (E1, E2)."""

    plan_year: int
    hod_training: bool
    npn_on_ffm_list: bool
    terms_accepted: bool


def _languages(values) -> tuple[str, ...]:
    languages = _tuple_of(validate.language)(values)
    if not languages:
        raise InputError("at least one language is required")
    return languages


@frozen
class Agent:
    """A registered agent or broker, as the agents JSONL file describes one."""

    npn: str = field(converter=_named(validate.npn))
    first_name: str = field(converter=_named(validate.name))
    last_name: str = field(converter=_named(validate.name))
    email: str = field(converter=_named(validate.email))
    phone: str = field(converter=_named(validate.phone))
    zip: str = field(converter=_named(validate.zip_code))
    home_state: str = field(converter=_named(validate.state))
    display_option: DisplayOption = field(converter=_named(member(DisplayOption, "display option")))
    licenses: tuple[License, ...] = field(converter=tuple)
    languages: tuple[str, ...] = field(converter=_named(_languages))
    contact_method: ContactMethod = field(converter=_named(member(ContactMethod, "contact method")))
    participation: Participation
    street_address: str | None = field(default=None, converter=_named(validate.street_address))
    state_preferences: frozenset[str] | None = field(
        default=None, converter=_named(_optional_set(validate.state))
    )
    suspended: bool = False
    # L9: when a suspension was last lifted; misses before it do not count.
    reinstated_at: datetime | None = field(
        default=None, converter=_named(_optional(validate.instant))
    )
    timezone: str | None = field(default=None, converter=_named(validate.zone_name))
    availability: Availability = field(factory=Availability)


@frozen
class Consumer:
    """A Get Contacted request (L1). `state` None = derived from the ZIP."""

    first_name: str = field(converter=_named(validate.name), metadata=PRIVATE)
    last_name: str = field(converter=_named(validate.name), metadata=PRIVATE)
    phone: str = field(converter=_named(validate.phone), metadata=PRIVATE)
    email: str = field(converter=_named(validate.email), metadata=PRIVATE)
    zip: str = field(converter=_named(validate.zip_code))
    language: str = field(converter=_named(validate.language))
    state: str | None = field(default=None, converter=_named(_optional(validate.state)))


@frozen
class QueueEntry:
    """One place in a referral's queue."""

    npn: str
    distance_km: float


@frozen
class MatchResult:
    """The ordered queue and, when asked for, why every other agent is out."""

    queue: tuple[QueueEntry, ...]
    excluded: Mapping[str, str] | None = None  # npn -> first failing rule id
