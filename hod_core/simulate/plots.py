"""The report's plots, as PNG bytes, from the figures `--json` prints.

matplotlib's object API with its Agg canvas: no pyplot, so no global state,
no display, and nothing shared between two reports drawn in one process.
Every function tolerates missing figures: it returns None when there is
nothing to draw, and the report says so instead of showing an empty plot.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
GAP_COLOUR = "#b2182b"  # nobody available
MISSING_COLOUR = "#d9d9d9"  # an hour that does not exist (DST) or no data


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _get(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def coverage_heatmap(coverage: dict, language: str) -> bytes | None:
    """States (rows) by the week's 168 hours (columns), agents available, log colour."""
    states = [s for s, by in (coverage.get("coverage") or {}).items() if language in by]
    if not states:
        return None
    grid = np.array(
        [
            [np.nan if c is None else c for c in coverage["coverage"][s][language]["counts"]]
            for s in states
        ],
        dtype=float,
    )
    top = np.nanmax(grid) if np.isfinite(grid).any() else 0
    figure = Figure(figsize=(14, 0.22 * len(states) + 1.6))
    axes = figure.add_subplot()
    cmap = colormaps["viridis"].with_extremes(under=GAP_COLOUR, bad=MISSING_COLOUR)
    shown = np.ma.masked_invalid(np.where(grid == 0, 0.5, grid))
    image = axes.imshow(
        shown,
        aspect="auto",
        interpolation="nearest",
        cmap=cmap,
        norm=LogNorm(vmin=1, vmax=max(top, 2)),
    )
    axes.set_yticks(range(len(states)), states, fontsize=8)
    days = coverage.get("days") or []
    labels = [f"{DAY_NAMES[d]} {days[d][5:]}" if d < len(days) else DAY_NAMES[d] for d in range(7)]
    # Hours 06, 12 and 18 of each day on the axis, the day's name below them.
    hours = [h for h in range(168) if h % 6 == 0 and h % 24]
    axes.set_xticks([h - 0.5 for h in hours], [f"{h % 24:02d}" for h in hours], minor=True)
    axes.set_xticks([d * 24 + 12 for d in range(7)], labels)
    axes.tick_params(axis="x", which="minor", labelsize=6)
    axes.tick_params(axis="x", which="major", length=0, pad=12, labelsize=9)
    for day in range(1, 7):
        axes.axvline(day * 24 - 0.5, color="white", linewidth=1.5)
    axes.set_title(
        f"Agents available, language {language} (consumer's local time; red = nobody)",
        fontsize=11,
    )
    bar = figure.colorbar(image, ax=axes, extend="min", pad=0.01)
    ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if t <= max(top, 2)]
    bar.set_ticks(ticks, labels=[str(t) for t in ticks])
    bar.set_label("agents available (log scale)")
    return _png(figure)


def _runs(result: dict) -> list[dict]:
    return [r for r in result.get("runs") or [] if isinstance(r, dict)]


def _name(run: dict, number: int) -> str:
    return str(run.get("policy") or f"policy {number}")


def time_to_accept(result: dict) -> bytes | None:
    """Request to accept: p50, p90, p99 per policy; and p50, p90 by local hour."""
    runs = _runs(result)
    quantiles = ("p50", "p90", "p99")
    values = [[_get(r, "figures", "time_to_accept_minutes", q) for q in quantiles] for r in runs]
    if not any(v is not None for row in values for v in row):
        return None
    figure = Figure(figsize=(12, 4))
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
    width = 0.8 / len(runs)
    for number, (run, row) in enumerate(zip(runs, values, strict=True)):
        xs = np.arange(len(quantiles)) + number * width
        left.bar(
            xs, [v or 0 for v in row], width, label=_name(run, number + 1), color=COLOURS[number]
        )
        by_hour = _get(run, "figures", "by_hour") or {}
        hours = sorted((h for h in by_hour if str(h).isdigit()), key=int)
        for quantile, style in (("p50", "-"), ("p90", "--")):
            points = [
                (int(h), _get(by_hour[h], "time_to_accept_minutes", quantile))
                for h in hours
                if _get(by_hour[h], "time_to_accept_minutes", "count") != 0  # none accepted
            ]
            points = [(h, v) for h, v in points if v is not None]
            if points:
                right.plot(
                    *zip(*points, strict=True),
                    style,
                    color=COLOURS[number],
                    label=f"{_name(run, number + 1)} {quantile}",
                )
    left.set_xticks(np.arange(len(quantiles)) + width * (len(runs) - 1) / 2, quantiles)
    left.set_ylabel("minutes")
    left.set_title("Request to accept")
    left.legend(fontsize=8)
    right.set_xlabel("hour of the request (consumer's local time)")
    right.set_ylabel("minutes")
    right.set_title("Request to accept, by hour")
    right.set_xticks(range(0, 24, 3))
    if right.lines:
        right.legend(fontsize=8)
    return _png(figure)


def waiting_over_day(result: dict) -> bytes | None:
    """Referrals waiting (nobody eligible) and open (not yet accepted nor ended)."""
    runs = [r for r in _runs(result) if _get(r, "figures", "waiting_over_day", "start")]
    if not runs:
        return None
    figure = Figure(figsize=(12, 4))
    axes = figure.add_subplot()
    for number, run in enumerate(runs):
        series = _get(run, "figures", "waiting_over_day")
        start = datetime.fromisoformat(str(series["start"]).replace("Z", "+00:00"))
        step = timedelta(minutes=series.get("step_minutes") or 15)
        for key, style in (("waiting", "-"), ("open", ":")):
            points = series.get(key) or []
            times = [start + i * step for i in range(len(points))]
            if points:
                axes.plot(
                    times,
                    points,
                    style,
                    color=COLOURS[number % len(COLOURS)],
                    label=f"{_name(run, number + 1)}: {key}",
                )
    axes.set_xlabel("time (UTC)")
    axes.set_ylabel("referrals")
    axes.set_title("Waiting and open referrals over the day")
    axes.legend(fontsize=8)
    figure.autofmt_xdate()
    return _png(figure)


def unmatched_by_state(result: dict) -> bytes | None:
    """Share of requests ending Unmatched (L10), per state and policy."""
    runs = _runs(result)
    states = sorted({s for r in runs for s in (_get(r, "figures", "by_state") or {})})
    if not states:
        return None
    figure = Figure(figsize=(12, 4))
    axes = figure.add_subplot()
    width = 0.8 / len(runs)
    for number, run in enumerate(runs):
        by_state = _get(run, "figures", "by_state") or {}
        shares = [(_get(by_state, s, "share_unmatched") or 0) * 100 for s in states]
        axes.bar(
            np.arange(len(states)) + number * width,
            shares,
            width,
            label=_name(run, number + 1),
            color=COLOURS[number % len(COLOURS)],
        )
    axes.set_xticks(np.arange(len(states)) + width * (len(runs) - 1) / 2, states, fontsize=8)
    axes.set_ylabel("% of requests unmatched")
    axes.set_title("Unmatched by state")
    axes.legend(fontsize=8)
    return _png(figure)


def offers_per_agent(result: dict) -> bytes | None:
    """How many agents got 1, 2, ... 10+ offers, per policy."""
    runs = [r for r in _runs(result) if _get(r, "figures", "offers_per_agent", "histogram")]
    if not runs:
        return None
    buckets = sorted(
        {b for r in runs for b in _get(r, "figures", "offers_per_agent", "histogram")},
        key=_bucket_order,
    )
    figure = Figure(figsize=(12, 4))
    axes = figure.add_subplot()
    width = 0.8 / len(runs)
    for number, run in enumerate(runs):
        histogram = _get(run, "figures", "offers_per_agent", "histogram")
        gini = _get(run, "figures", "offers_per_agent", "gini")
        label = _name(run, number + 1) + (f" (Gini {gini})" if gini is not None else "")
        axes.bar(
            np.arange(len(buckets)) + number * width,
            [histogram.get(b) or 0 for b in buckets],
            width,
            label=label,
            color=COLOURS[number % len(COLOURS)],
        )
    axes.set_xticks(np.arange(len(buckets)) + width * (len(runs) - 1) / 2, buckets)
    axes.set_xlabel("offers received")
    axes.set_ylabel("agents")
    axes.set_title("Offers per agent")
    axes.legend(fontsize=8)
    return _png(figure)


def _bucket_order(bucket: str) -> tuple[int, str]:
    digits = "".join(ch for ch in str(bucket) if ch.isdigit())
    return (int(digits) if digits else 10**9, str(bucket))
