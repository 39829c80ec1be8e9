"""The domain's value objects: agents, their licences and hours, consumers.

Frozen attrs classes; validation happens here, where a value enters, so an
object that exists is valid. Behaviour (eligibility, availability, ranking)
lives in the modules that take these objects.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime

from attrs import Attribute, Converter, field, frozen

from . import validate
from .codes import WEEKDAYS
from .errors import InputError


class DisplayOption(enum.IntEnum):
    """MLMS display option (seeds 000, 004): where the agent may be shown."""

    ALL_LICENSED_STATES = 1
    ALL_LICENSED_STATES_NO_STREET_ADDRESS = 2
    HOME_STATE_ONLY = 3
    NOT_PARTICIPATING = 4


class ContactMethod(enum.Enum):
    """Preferred contact method (seed 001); email is always one of the channels."""

    EMAIL_TEXT_APP = "email_text_app"
    EMAIL_TEXT = "email_text"
    EMAIL_APP = "email_app"
    EMAIL = "email"

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.value.split("_"))


def _at_index(check, index: int, value):
    try:
        return check(value)
    except InputError as exc:
        raise exc.located(prefix=f"[{index}]") from None


def _tuple_of(check):
    def convert(values):
        if isinstance(values, str) or not hasattr(values, "__iter__"):
            raise InputError(f"expected a list, got {values!r}")
        return tuple(_at_index(check, i, v) for i, v in enumerate(values))

    return convert


def _named(convert):
    """A field converter whose InputError names the field it was converting."""

    def run(value, _self, attribute: Attribute):
        try:
            return convert(value)
        except InputError as exc:
            raise exc.located(prefix=attribute.name) from None

    return Converter(run, takes_self=True, takes_field=True)


def member(enum_type, what: str):
    """Convert to an enum member with a readable error listing the allowed values."""

    def convert(value):
        try:
            return enum_type(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in enum_type)
            raise InputError(f"{what} must be one of {allowed}, got {value!r}") from None

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
    street_address: str | None = None
    state_preferences: frozenset[str] | None = field(
        default=None, converter=_named(_optional_set(validate.state))
    )
    suspended: bool = False
    # L9: when a suspension was last lifted; misses before it no longer count.
    reinstated_at: datetime | None = field(
        default=None, converter=_named(_optional(validate.instant))
    )
    timezone: str | None = field(default=None, converter=_named(validate.zone_name))
    availability: Availability = field(factory=Availability)


@frozen
class Consumer:
    """A Get Contacted request (L1). `state` None = derived from the ZIP."""

    first_name: str = field(converter=_named(validate.name))
    last_name: str = field(converter=_named(validate.name))
    phone: str = field(converter=_named(validate.phone))
    email: str = field(converter=_named(validate.email))
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
