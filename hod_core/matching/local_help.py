"""Find Local Help: agents near a ZIP, nearest first, as each agent chose to be shown.

D1  A search by ZIP (radius, language) lists agents nearest first with name,
    distance, phone, email and languages.
D2  Display option 1 shows all contact information, the street address
    included; option 2 all but the street address.
D3  Display option 3 is listed only for searches in the agent's home state;
    option 4 is never listed.

The options' own words (seeds 000, 004) also say where an agent is shown: in
"all states where I have a valid health license", so an agent is listed only
for a searched state where they hold one. The rule file's [directory] table
adds the policy: radius choices, page size, tie-breaks and which eligibility
rules ([[rules]] ids) a listed agent must also pass.

The directory reads the matcher's agent records (already located and zoned)
and keeps its own spatial index of their ZIPs, rebuilt when the matcher's
agents change; distances are the matcher's WGS84 geodesic ones.
"""

from __future__ import annotations

import threading
from datetime import datetime
from math import ceil

from attrs import frozen

from hod_core.domain import validate
from hod_core.domain.disclosure import agent_card
from hod_core.domain.models import DisplayOption
from hod_core.errors import InputError
from hod_core.geo import zips
from hod_core.geo.distance import SPHERE_ERROR, geodesic_km, unit_vector
from hod_core.geo.index import PointIndex
from hod_core.matching.agent_records import AgentRecord
from hod_core.matching.match_facts import ConsumerFacts, Query
from hod_core.matching.matcher import Matcher
from hod_core.rules.directory_policy import DirectoryPolicy

KM_PER_MILE = 1.609344


@frozen
class Listing:
    """One agent as Find Local Help shows them (D1; the street address per D2)."""

    npn: str
    name: str
    distance_km: float
    distance_miles: float
    phone: str
    email: str
    languages: tuple[str, ...]
    street_address: str | None
    zip: str
    state: str


@frozen
class DirectoryPage:
    """One page of a search's results, nearest first."""

    zip: str
    state: str  # the searched state: the ZIP's
    radius_miles: int
    language: str | None  # None: any language
    page: int
    page_size: int
    total: int
    listings: tuple[Listing, ...]

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.page_size))


class Directory:
    """Searches over a matcher's agents; safe to share between threads."""

    def __init__(self, matcher: Matcher):
        self.matcher = matcher
        self.policy: DirectoryPolicy = matcher.policy.directory
        self._rules = [matcher.policy.rule(rule_id) for rule_id in self.policy.rules]
        self._lock = threading.Lock()
        self._built_at = -1  # the matcher revision the index was built from
        self._groups: list[list[AgentRecord]] = []
        self._index = PointIndex([], [])

    def search(
        self,
        zip_code: str,
        at: datetime,
        *,
        radius_miles: int | None = None,
        language: str | None = None,
        page: int = 1,
    ) -> DirectoryPage:
        """Agents within `radius_miles` of the ZIP who may be listed for its state.

        `at` decides which licences are still valid (in each agent's own zone)
        and any time-dependent rule the rule file adds. Bad input raises
        InputError naming the field: zip, radius, language or page.
        """
        facts = _facts(zip_code, language)
        language = facts.language or None
        radius = self._radius(radius_miles)
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise InputError(f"page must be a whole number >= 1, got {page!r}", field="page")
        query = Query(facts, at)
        found = [
            (km, record)
            for km, record in self._within(facts, radius * KM_PER_MILE)
            if self._listed(record, query, language)
        ]
        found.sort(key=self._sort_key)
        size = self.policy.page_size
        shown = found[(page - 1) * size : page * size]
        return DirectoryPage(
            zip=facts.zip,
            state=facts.state,
            radius_miles=radius,
            language=language,
            page=page,
            page_size=size,
            total=len(found),
            listings=tuple(_listing(km, record) for km, record in shown),
        )

    def _radius(self, radius_miles: int | None) -> int:
        if radius_miles is None:
            return self.policy.default_radius_miles
        largest = self.policy.max_radius_miles
        if (
            isinstance(radius_miles, bool)
            or not isinstance(radius_miles, int)
            or not 1 <= radius_miles <= largest
        ):
            raise InputError(
                f"radius must be a whole number of miles from 1 to {largest}, got {radius_miles!r}",
                field="radius",
            )
        return radius_miles

    def _listed(self, record: AgentRecord, query: Query, language: str | None) -> bool:
        state = query.consumer.state
        option = record.display_option
        if option == DisplayOption.NOT_PARTICIPATING:  # D3: option 4, never
            return False
        if option == DisplayOption.HOME_STATE_ONLY and state != record.home_state:  # D3
            return False
        if state not in query.valid_health_states(record):  # "where I have a valid health license"
            return False
        if language is not None and language not in record.languages:  # D1
            return False
        return all(rule.check(record, query) for rule in self._rules)

    def _sort_key(self, pair: tuple[float, AgentRecord]) -> tuple:
        km, record = pair
        keys = {
            "distance": lambda: km,
            "name": lambda: (record.agent.last_name.casefold(), record.agent.first_name.casefold()),
            "npn": lambda: (len(record.npn), record.npn),  # numeric order of digits
        }
        return tuple(keys[name]() for name in self.policy.order)

    def _within(self, facts: ConsumerFacts, radius_km: float) -> list[tuple[float, AgentRecord]]:
        """Every agent whose ZIP centroid is within `radius_km` (geodesic) of the ZIP's."""
        groups, index = self._current()
        # The sphere search, widened by its error bound, holds every ZIP the
        # ellipsoid puts inside the radius; the geodesic distance then decides.
        reach = radius_km * (1 + SPHERE_ERROR) + 0.001
        positions, _ = index.ring(facts.vector, facts.lat, facts.lon, -1.0, reach)
        found = []
        for position in positions:
            group = groups[position]
            km = geodesic_km(facts.lat, facts.lon, group[0].lat, group[0].lon)
            if km <= radius_km:
                found.extend((km, record) for record in group)
        return found

    def _current(self) -> tuple[list[list[AgentRecord]], PointIndex]:
        """The index of the agents' ZIPs, rebuilt when the matcher's agents changed."""
        with self._lock:
            revision = self.matcher.revision
            if revision != self._built_at:
                by_zip: dict[str, list[AgentRecord]] = {}
                for record in self.matcher.records():
                    by_zip.setdefault(record.zip, []).append(record)
                self._groups = list(by_zip.values())
                heads = [group[0] for group in self._groups]
                self._index = PointIndex([r.lat for r in heads], [r.lon for r in heads])
                self._built_at = revision
            return self._groups, self._index


def _facts(zip_code: str, language: str | None) -> ConsumerFacts:
    """The searched place: a located ZIP, its state, and the language asked for."""
    try:
        code = validate.zip_code(zip_code)
    except InputError as exc:
        raise InputError(exc.message, field="zip") from None
    place = zips.locate(code)  # InputError(field="zip") for an unknown or unlocated ZIP
    if language is not None:
        try:
            language = validate.language(language)
        except InputError as exc:
            raise InputError(exc.message, field="language") from None
    return ConsumerFacts(
        place.state,
        language or "",
        code,
        place.lat,
        place.lon,
        unit_vector(place.lat, place.lon),
    )


def _listing(km: float, record: AgentRecord) -> Listing:
    card = agent_card(record.agent)  # D2: no street address for display option 2
    return Listing(
        npn=record.npn,
        name=card["name"],
        distance_km=round(km, 3),
        distance_miles=round(km / KM_PER_MILE, 1),
        phone=card["phone"],
        email=card["email"],
        languages=record.languages,
        street_address=card["street_address"],
        zip=record.zip,
        state=record.home_state,
    )
