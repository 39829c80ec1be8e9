"""Self-contained HTML reports of `hod coverage` and `hod simulate`.

One file, readable offline and without JavaScript: the plots are PNG images
inside the page (data: URIs), the styles are inline, and every figure is
also in a table, so the numbers can be read, copied and checked. Each
function takes exactly the object the command's `--json` prints, and
tolerates keys it does not know or that are missing. Every text that goes
into the page is escaped: state names and policy file names are data.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hod_core.errors import InputError

INSTALL_HINT = "pip install 'hod-core[report]'"
GROUP_COLUMNS = (  # (heading, path in a GROUP of by_state / by_language / by_hour)
    ("requests", ("requests",)),
    ("accepted", ("accepted",)),
    ("unmatched", ("unmatched",)),
    ("share unmatched", ("share_unmatched",)),
    ("to accept p50 (min)", ("time_to_accept_minutes", "p50")),
    ("p90", ("time_to_accept_minutes", "p90")),
    ("p99", ("time_to_accept_minutes", "p99")),
    ("offers", ("offers",)),
    ("offers per referral", ("offers_per_referral",)),
    ("missed", ("missed_offers",)),
    ("rejected", ("rejected_offers",)),
    ("suspensions", ("suspensions",)),
    ("agents offered", ("offers_per_agent", "agents_offered")),
    ("Gini", ("offers_per_agent", "gini")),
)
MINUTES_HISTOGRAMS = (  # (figure, column heading): bins of minutes, as figures.py fixes them
    ("time_to_accept_minutes", "request to accept"),
    ("offer_wait_minutes", "offer answered after"),
)
NOT_SCALARS = {"by_state", "by_language", "by_hour", "waiting_over_day", "histogram"}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#222;max-width:1400px}
h1{font-size:1.6em}h2{font-size:1.3em;margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.1em}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.85em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right}th{background:#f2f2f2}
td.text,th.text{text-align:left}td.gap{background:#f4c7c3}td.none{color:#999}
.wide{overflow-x:auto;max-width:100%}img{max-width:100%;height:auto}
p.none{color:#777;font-style:italic}ul.gaps li{font-family:ui-monospace,monospace}
"""


def require_plotting() -> None:
    """Stop with one line when the plotting library is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError(
            f"writing a report needs matplotlib: {INSTALL_HINT}", field="--report"
        ) from None


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _cell(value: Any, css: str = "") -> str:
    if isinstance(value, str):
        return f'<td class="text">{_e(value)}</td>'
    css = css or ("none" if value is None else "")
    return (
        f'<td class="{css}">{_e(_number(value))}</td>' if css else f"<td>{_e(_number(value))}</td>"
    )


def _table(headers: Iterable[Any], rows: Iterable[Iterable[Any]], *, wide: bool = False) -> str:
    head = "".join(
        f'<th class="text">{_e(h)}</th>' if i == 0 else f"<th>{_e(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="wide">{table}</div>' if wide else table


def _image(png: bytes | None, alt: str) -> str:
    if png is None:
        return f'<p class="none">{_e(alt)}: no data to plot.</p>'
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></figure>'


def _page(title: str, parts: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>" + "\n".join(parts) + "</body></html>\n"
    )


def _write(path: Path, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot write the report: {exc.strerror or exc}", field="--report", source=str(path)
        ) from None


def _get(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _pairs(mapping: Any) -> list[tuple[str, Any]]:
    """A dict's scalar leaves as (dotted key, value), nested dicts flattened."""
    pairs: list[tuple[str, Any]] = []
    for key, value in (mapping or {}).items():
        if isinstance(value, dict):
            pairs += [(f"{key}.{k}", v) for k, v in _pairs(value)]
        elif isinstance(value, list):
            pairs.append((str(key), ", ".join(map(str, value))))
        else:
            pairs.append((str(key), value))
    return pairs


# -- coverage ---------------------------------------------------------------
def write_coverage_report(coverage: dict, path: Path) -> None:
    """The heat maps (state x hour, one per language), gaps and every count."""
    require_plotting()
    from hod_core.reports import plots

    inputs = coverage.get("inputs") or {}
    title = f"Coverage, week of {inputs.get('week_of', '?')}"
    parts = [
        _table(["input", "value"], _pairs(inputs) + [("hour", coverage.get("hour"))]),
        "<h2>Gaps</h2>",
    ]
    gaps = coverage.get("gaps") or []
    if gaps:
        items = "".join(f"<li>{_e(g.get('text', ''))}</li>" for g in gaps)
        parts.append(f'<ul class="gaps">{items}</ul>')
    else:
        parts.append("<p>Every state and language has an agent available at every hour.</p>")
    by_state = coverage.get("coverage") or {}
    states = coverage.get("states") or {}
    days = coverage.get("days") or []
    for language in inputs.get("languages") or []:
        rows = [s for s in by_state if language in by_state[s]]
        parts.append(f"<h2>Language {_e(language)}</h2>")
        parts.append(_image(plots.coverage_heatmap(coverage, language), f"heat map, {language}"))
        parts.append(
            _table(
                ["state", "zone", "eligible", "fewest", "most", "hours with nobody"],
                [
                    [
                        s,
                        _get(states, s, "zone") or "",
                        *(
                            _get(by_state, s, language, k)
                            for k in ("eligible", "min", "max", "hours_uncovered")
                        ),
                    ]
                    for s in rows
                ],
            )
        )
        parts.append(f"<h3>Agents available per hour, {_e(language)}</h3>")
        parts.append(_counts_table(by_state, rows, language, days))
    _write(path, _page(title, parts))


def _counts_table(by_state: dict, states: list[str], language: str, days: list[str]) -> str:
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    heads = [f"{names[h // 24]} {h % 24:02d}" for h in range(168)]
    head = '<th class="text">state</th>' + "".join(f"<th>{_e(h)}</th>" for h in heads)
    body = []
    for state in states:
        counts = _get(by_state, state, language, "counts") or []
        cells = "".join(_cell(c, "gap" if c == 0 else "none" if c is None else "") for c in counts)
        body.append(f'<tr><td class="text">{_e(state)}</td>{cells}</tr>')
    caption = f"Days: {', '.join(days)}" if days else ""
    return (
        f'<p>{_e(caption)}</p><div class="wide"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


# -- simulation -------------------------------------------------------------
def write_simulation_report(result: dict, path: Path) -> None:
    """Per policy (and their difference): the figures, the plots, the groups."""
    require_plotting()
    from hod_core.reports import plots

    runs = [r for r in result.get("runs") or [] if isinstance(r, dict)]
    names = [str(r.get("policy") or f"policy {i}") for i, r in enumerate(runs, start=1)]
    comparison = result.get("comparison") or {}
    columns = [r.get("figures") or {} for r in runs]
    headers = ["figure", *names]
    if comparison.get("differences"):
        columns.append(comparison["differences"])
        headers.append(f"difference ({comparison.get('other', '')} - {comparison.get('base', '')})")
    parts = [
        _table(["input", "value"], _pairs(result.get("inputs"))),
        _table(["policy", "parameter", "value"], _parameters(runs, names)),
        "<h2>Figures</h2>",
        _table(headers, _figure_rows(columns)),
        "<h2>Request to accept</h2>",
        _image(plots.time_to_accept(result), "time to accept"),
        _bins_table("minutes (bin from)", columns, headers[1:], MINUTES_HISTOGRAMS),
        "<h2>Waiting over the day</h2>",
        _image(plots.waiting_over_day(result), "waiting over the day"),
        _waiting_table(runs, names),
        "<h2>Unmatched by state</h2>",
        _image(plots.unmatched_by_state(result), "unmatched by state"),
        "<h2>Offers per agent</h2>",
        _image(plots.offers_per_agent(result), "offers per agent"),
        _bins_table("offers received", columns, headers[1:], (("offers_per_agent", "agents"),)),
    ]
    for key, label in (("by_state", "state"), ("by_language", "language"), ("by_hour", "hour")):
        parts.append(f"<h2>By {label}</h2>")
        for name, run in zip(names, runs, strict=True):
            groups = _get(run, "figures", key) or {}
            parts.append(f"<h3>{_e(name)}</h3>")
            parts.append(
                _table(
                    [label, *(h for h, _ in GROUP_COLUMNS)],
                    [[g, *(_get(groups[g], *p) for _, p in GROUP_COLUMNS)] for g in groups],
                    wide=True,
                )
            )
    _write(path, _page("Simulation", parts))


def _parameters(runs: list[dict], names: list[str]) -> list[list[Any]]:
    return [
        [name, key, value]
        for name, run in zip(names, runs, strict=True)
        for key, value in _pairs(run.get("parameters"))
    ]


def _figure_rows(columns: list[dict]) -> list[list[Any]]:
    """Every scalar figure (nested ones dotted), in the first column's order."""
    keys: dict[str, None] = {}
    values = []
    for figures in columns:
        flat = {k: v for k, v in _pairs(figures) if not NOT_SCALARS.intersection(k.split("."))}
        keys.update(dict.fromkeys(flat))
        values.append(flat)
    return [[key, *(v.get(key) for v in values)] for key in keys]


def _waiting_table(runs: list[dict], names: list[str]) -> str:
    series = [_get(r, "figures", "waiting_over_day") or {} for r in runs]
    first = next((s for s in series if s.get("start")), None)
    if first is None:
        return ""
    length = max(len(s.get("waiting") or []) for s in series)
    step = first.get("step_minutes") or 15
    headers = ["minutes from " + str(first["start"])]
    for name in names:
        headers += [f"{name}: waiting", f"{name}: open"]
    rows = []
    for i in range(length):
        row: list[Any] = [i * step]
        for s in series:
            for key in ("waiting", "open"):
                points = s.get(key) or []
                row.append(points[i] if i < len(points) else None)
        rows.append(row)
    return _table(headers, rows, wide=True)


def _bins_table(first: str, columns: list[dict], names: list[str], figures) -> str:
    """Histograms bin by bin: one column per (policy or difference, figure)."""
    histograms = [
        (f"{name}: {label}", _get(column, key, "histogram") or {})
        for name, column in zip(names, columns, strict=True)
        for key, label in figures
    ]
    bins = list(dict.fromkeys(b for _, h in histograms for b in h))
    if not bins:
        return ""
    return _table(
        [first, *(heading for heading, _ in histograms)],
        [[str(b), *(h.get(b) for _, h in histograms)] for b in bins],
        wide=True,
    )
