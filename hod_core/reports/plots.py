"""The report's plots, as PNG bytes, from the figures `--json` prints.

matplotlib's object API with its Agg canvas: no pyplot, so no global state,
no display, and nothing shared between two reports drawn in one process.
Every function tolerates missing figures: it returns None when there is
nothing to draw, and the report says so instead of showing an empty plot.
"""

from __future__ import annotations

import io
import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
LINESTYLES = ("-", "--", ":", "-.")  # one per policy: the plots read in black and white too
# Bars and series also differ by hatch and marker, so a report printed in grey still tells policies apart.
HATCHES = ("", "//", "..", "xx")
MARKERS = ("o", "s", "D", "v")
QUANTILES = (("p50", 50), ("p90", 90), ("p99", 99))
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


def minutes_histogram(run: dict, figure: str) -> tuple[list[float], list[int], int] | None:
    """A `{lower edge: count, ..., "120+": count}` histogram of minutes as bin
    edges, the counts between them, and the count beyond the last edge."""
    histogram = _get(run, "figures", figure, "histogram")
    if not isinstance(histogram, dict) or not histogram:
        return None
    bins = sorted(histogram, key=_bucket_order)
    if len(bins) < 2 or not str(bins[-1]).endswith("+"):
        return None  # not the shape figures.py writes
    edges = [float(_bucket_order(b)[0]) for b in bins]
    counts = [int(histogram[b] or 0) for b in bins]
    return edges, counts[:-1], counts[-1]


def time_to_accept(result: dict) -> bytes | None:
    """Request to accept: its distribution (minutes per bin, and the share
    accepted within x minutes, p50/p90/p99 marked) per policy, and p50, p90
    by local hour. Policies differ in line style too, so it reads in grey."""
    runs = _runs(result)
    quantiles = [
        [(q, _get(r, "figures", "time_to_accept_minutes", q), level) for q, level in QUANTILES]
        for r in runs
    ]
    if not any(v is not None for row in quantiles for _, v, _ in row):
        return None
    figure = Figure(figsize=(12, 7.5), layout="constrained")
    grid = figure.add_gridspec(2, 2)
    density, within = figure.add_subplot(grid[0, 0]), figure.add_subplot(grid[0, 1])
    by_hour_axes = figure.add_subplot(grid[1, :])
    for number, (run, row) in enumerate(zip(runs, quantiles, strict=True)):
        name, colour, style = _name(run, number + 1), _colour(number), _style(number)
        binned = minutes_histogram(run, "time_to_accept_minutes")
        total = sum(binned[1]) + binned[2] if binned else 0
        if binned and total:
            edges, counts, beyond = binned
            widths = np.diff(edges)
            density.stairs(
                np.array(counts) / widths / total * 100,
                edges,
                color=colour,
                linestyle=style,
                linewidth=1.8,
                label=name + (f" ({beyond} after {edges[-1]:g} min)" if beyond else ""),
            )
            within.plot(
                edges,
                [0, *(np.cumsum(counts) / total * 100)],
                color=colour,
                linestyle=style,
                linewidth=1.8,
            )
        marked = [(v, level) for _, v, level in row if v is not None]
        if marked:
            summary = ", ".join(f"{q} {v:g}" for q, v, _ in row if v is not None)
            within.plot(
                *zip(*marked, strict=True),
                MARKERS[number % len(MARKERS)],
                color=colour,
                linestyle="none",
                label=f"{name}: {summary} min",
            )
        _by_hour(by_hour_axes, run, name, colour, style)
    density.set_xlabel("minutes from request to accept")
    density.set_ylabel("% of accepted referrals per minute")
    density.set_title("Request to accept: distribution (1-minute bins to 30, then 5)")
    tail = max((v for row in quantiles for q, v, _ in row if q == "p99" and v), default=0)
    density.set_xlim(0, min(120, max(10, 5 * math.ceil(tail * 1.2 / 5))))  # past every p99
    within.set_xlabel("minutes from request to accept")
    within.set_ylabel("% of accepted referrals")
    within.set_title("Accepted within x minutes (markers: p50, p90, p99)")
    within.set_ylim(0, 101)
    within.set_xlim(0, None)
    for axes in (density, within):
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=8, loc="lower right" if axes is within else "upper right")
    by_hour_axes.set_xlabel("hour of the request (consumer's local time)")
    by_hour_axes.set_ylabel("minutes")
    by_hour_axes.set_title("Request to accept, by hour (circles: p50, triangles: p90)")
    by_hour_axes.set_xticks(range(0, 24, 3))
    by_hour_axes.grid(alpha=0.3)
    if by_hour_axes.lines:
        by_hour_axes.legend(fontsize=8)
    return _png(figure)


def _by_hour(axes, run: dict, name: str, colour: str, style: str) -> None:
    by_hour = _get(run, "figures", "by_hour") or {}
    hours = sorted((h for h in by_hour if str(h).isdigit()), key=int)
    for quantile, marker in (("p50", "o"), ("p90", "^")):
        points = [(int(h), _get(by_hour[h], "time_to_accept_minutes", quantile)) for h in hours]
        points = [(h, v) for h, v in points if v is not None]  # an hour with none accepted
        if points:
            axes.plot(
                *zip(*points, strict=True),
                color=colour,
                linestyle=style,
                marker=marker,
                markersize=5,
                label=f"{name} {quantile}",
            )


def _colour(number: int) -> str:
    return COLOURS[number % len(COLOURS)]


def _style(number: int) -> str:
    return LINESTYLES[number % len(LINESTYLES)]


def _bar_look(number: int) -> dict:
    return {
        "color": _colour(number),
        "hatch": HATCHES[number % len(HATCHES)],
        "edgecolor": "black",
        "linewidth": 0.4,
    }


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
                    color=_colour(number),
                    marker=MARKERS[number % len(MARKERS)],
                    markevery=8,
                    markersize=4,
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
            **_bar_look(number),
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
            **_bar_look(number),
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
