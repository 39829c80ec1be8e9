"""The figures of a simulated day, and the differences between two policies.

Worked out from the referrals as the store holds them at the end (their
offers carry every instant: offered, answered, expired) and the suspension
events, for the whole day and by state, language and hour of the consumer's
own day. The JSON shape is documented in docs/howto/simulate-a-policy.md;
times are in minutes, shares between 0 and 1, percentiles nearest-rank.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hod_core.domain.referrals import OfferStatus, Referral, ReferralStatus
from hod_core.simulate.demand import Request

STEP = timedelta(minutes=15)  # the waiting-over-the-day series
HISTOGRAM_TOP = 10  # offers per agent: "10+" holds the rest
# Minutes histograms: bins named by their lower edge, which they include; one minute
# wide to 30, five minutes wide to 120, then "120+". Fixed, so two runs line up bin by bin.
MINUTE_BINS = (*range(0, 30), *range(30, 120, 5), 120)
_OPEN = (ReferralStatus.WAITING, ReferralStatus.OFFERED)


def minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of values at or below it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def spread(values: Sequence[float]) -> dict[str, Any]:
    """count, mean, p50, p90, p99 of minutes (None when there are none)."""
    if not values:
        return {"count": 0, "mean": None, "p50": None, "p90": None, "p99": None}
    return {
        "count": len(values),
        "mean": round(sum(values) / len(values), 3),
        **{f"p{p}": round(percentile(values, p), 3) for p in (50, 90, 99)},
    }


def minutes_histogram(values: Iterable[float]) -> dict[str, int]:
    """Counts per MINUTE_BINS bin: "5" holds 5 <= minutes < 6, "30" holds 30 <= m < 35."""
    counts = [0] * len(MINUTE_BINS)
    for value in values:
        counts[max(0, bisect_right(MINUTE_BINS, value) - 1)] += 1
    labels = [str(edge) for edge in MINUTE_BINS[:-1]] + [f"{MINUTE_BINS[-1]}+"]
    return dict(zip(labels, counts, strict=True))


def _distribution(values: Sequence[float]) -> dict[str, Any]:
    """spread() and the histogram: for the whole day only (by group it would be 90 of them)."""
    return {**spread(values), "histogram": minutes_histogram(values)}


def gini(counts: Iterable[int]) -> float | None:
    """0 when every agent got as many offers, towards 1 when one got them all."""
    ordered = sorted(counts)
    n, total = len(ordered), sum(ordered)
    if n == 0 or total == 0:
        return None
    weighted = sum(i * x for i, x in enumerate(ordered, start=1))
    return round(2 * weighted / (n * total) - (n + 1) / n, 4)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _per_agent(offered: Counter) -> dict[str, Any]:
    counts = list(offered.values())
    return {
        "agents_offered": len(counts),
        "mean": _ratio(sum(counts), len(counts)),
        "max": max(counts, default=0),
        "gini": gini(counts),
    }


def _accept_times(pairs: Sequence[tuple[Request, Referral]]) -> list[float]:
    return [minutes(r.accepted_at - r.created_at) for _, r in pairs if r.accepted_at]


def _group(pairs: Sequence[tuple[Request, Referral]], suspended: int) -> dict[str, Any]:
    """The figures of some referrals (all of them, or one state's, ...)."""
    offers = [o for _, r in pairs for o in r.offers]
    accepted = _accept_times(pairs)
    status = Counter(o.status for o in offers)
    return {
        "requests": len(pairs),
        "accepted": len(accepted),
        "unmatched": sum(r.status is ReferralStatus.UNMATCHED for _, r in pairs),
        "share_unmatched": _share(
            sum(r.status is ReferralStatus.UNMATCHED for _, r in pairs), len(pairs)
        ),
        "time_to_accept_minutes": spread(accepted),
        "offers": len(offers),
        "offers_per_referral": _ratio(len(offers), len(pairs)),
        "missed_offers": status[OfferStatus.MISSED],
        "rejected_offers": status[OfferStatus.REJECTED],
        "suspensions": suspended,
        "offers_per_agent": _per_agent(Counter(o.npn for o in offers)),
    }


def figures_of(
    requests: Sequence[Request],
    referrals: Sequence[Referral],
    suspensions: Sequence[tuple[str, datetime]],
    agents: int,
) -> dict[str, Any]:
    """Every figure of one run: `referrals[i]` is the referral of `requests[i]`."""
    pairs = list(zip(requests, referrals, strict=True))
    # A suspension belongs to the referral whose miss brought it (same agent, same instant).
    missed_at = {
        (o.npn, o.answered_at): i
        for i, (_, r) in enumerate(pairs)
        for o in r.offers
        if o.status is OfferStatus.MISSED
    }
    suspended_by = Counter(missed_at.get(s) for s in suspensions)
    whole = _group(pairs, len(suspensions))
    offers = [o for _, r in pairs for o in r.offers]
    answered = [minutes(o.answered_at - o.offered_at) for o in offers if o.answered_at]
    first = [minutes(r.offers[0].offered_at - r.created_at) for _, r in pairs if r.offers]
    per_agent = Counter(o.npn for o in offers)
    histogram = Counter(min(n, HISTOGRAM_TOP) for n in per_agent.values())
    accepted = whole["accepted"]
    figures = {
        "requests": len(pairs),
        "accepted": accepted,
        "unmatched": whole["unmatched"],
        "open_at_end": sum(r.status in _OPEN for _, r in pairs),
        "share_accepted": _share(accepted, len(pairs)),
        "share_unmatched": whole["share_unmatched"],
        "time_to_accept_minutes": _distribution(_accept_times(pairs)),
        "time_to_first_offer_minutes": spread(first),
        "offer_wait_minutes": _distribution(answered),
        "offers": len(offers),
        "offers_per_referral": whole["offers_per_referral"],
        "accepted_offers": sum(o.status is OfferStatus.ACCEPTED for o in offers),
        "rejected_offers": whole["rejected_offers"],
        "missed_offers": whole["missed_offers"],
        "share_offers_missed": _share(whole["missed_offers"], len(offers)),
        "suspensions": len(suspensions),
        "offers_per_agent": {
            "agents": agents,
            **whole["offers_per_agent"],
            "gini_all_agents": gini([*per_agent.values(), *[0] * (agents - len(per_agent))]),
            "histogram": {
                (f"{n}+" if n == HISTOGRAM_TOP else str(n)): histogram[n]
                for n in range(1, HISTOGRAM_TOP + 1)
            },
        },
        "waiting_over_day": waiting_over_day([r for _, r in pairs]),
    }
    for name, key in (
        ("by_state", lambda q: q.state),
        ("by_language", lambda q: q.language),
        ("by_hour", lambda q: f"{q.local_hour:02d}"),
    ):
        groups: dict[str, list[int]] = defaultdict(list)
        for i, (q, _) in enumerate(pairs):
            groups[key(q)].append(i)
        figures[name] = {
            g: _group([pairs[i] for i in members], sum(suspended_by[i] for i in members))
            for g, members in sorted(groups.items())
        }
    return figures


def _intervals(r: Referral, end: datetime) -> tuple[list, tuple]:
    """When the referral was Waiting (intervals), and when it was open
    (from the request until accepted or ended)."""
    closed = r.accepted_at or r.closed_at or end
    waiting, free_since = [], r.created_at
    for offer in r.offers:
        if offer.offered_at > free_since:
            waiting.append((free_since, offer.offered_at))
        free_since = offer.answered_at or end
    if r.status in (ReferralStatus.WAITING, ReferralStatus.UNMATCHED) and closed > free_since:
        waiting.append((free_since, closed))
    return waiting, (r.created_at, closed)


def waiting_over_day(referrals: Sequence[Referral]) -> dict[str, Any]:
    """How many referrals were Waiting (nobody eligible) and open (not yet
    accepted nor ended) at each step of the day, from the first request."""
    if not referrals:
        return {"step_minutes": minutes(STEP), "start": None, "waiting": [], "open": []}
    first = min(r.created_at for r in referrals).astimezone(UTC)
    start = first.replace(minute=first.minute - first.minute % 15, second=0, microsecond=0)
    end = max(_last_instant(r) for r in referrals)
    points = int((end - start) / STEP) + 2

    def step_at(at: datetime) -> int:  # the first sample at or after `at`
        return min(points, math.ceil((at - start) / STEP))

    waiting, open_ = [0] * (points + 1), [0] * (points + 1)
    for r in referrals:
        spans, (opened, closed) = _intervals(r, end)
        for series, (a, b) in [*((waiting, s) for s in spans), (open_, (opened, closed))]:
            series[step_at(a)] += 1
            series[step_at(b)] -= 1
    return {
        "step_minutes": int(minutes(STEP)),
        "start": start.isoformat().replace("+00:00", "Z"),
        "waiting": _running(waiting[:points]),
        "open": _running(open_[:points]),
    }


def _last_instant(r: Referral) -> datetime:
    instants = [r.created_at, r.accepted_at, r.closed_at]
    instants += [o.answered_at or o.expires_at for o in r.offers]
    return max(i for i in instants if i is not None)


def _running(deltas: list[int]) -> list[int]:
    total, out = 0, []
    for d in deltas:
        total += d
        out.append(total)
    return out


def compare(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """`other - base` for every number both have (None when either is None),
    point by point for series, bin by bin for histograms (their bins are fixed)."""
    out: dict[str, Any] = {}
    for key, a in base.items():
        if key not in other:
            continue
        b = other[key]
        if isinstance(a, dict) and isinstance(b, dict):
            out[key] = compare(a, b)
        elif isinstance(a, list) and isinstance(b, list):
            out[key] = [y - x for x, y in zip(a, b, strict=False)]
        elif _number(a) or _number(b):
            out[key] = round(b - a, 4) if _number(a) and _number(b) else None
    return out


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)
