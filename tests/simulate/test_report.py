"""The HTML reports: one self-contained file (nothing loaded from outside, no
script), every plot a PNG that decodes, the figures in tables, every text
escaped. Fed by real runs: `hod coverage` and `hod simulate` through the
command line, as a user would make them."""

from __future__ import annotations

import base64
import io
import json
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from hod_core.cli import main
from hod_core.coverage.counts import count_coverage
from hod_core.reports.html_report import write_coverage_report, write_simulation_report
from hod_core.rules.policy import default_policy_text, load_policy
from hod_core.testing.synthetic import Synthesizer

from .test_coverage import agents_of, varied_agents


class Page(HTMLParser):
    """What a browser would fetch or run, the images, and every table row."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0
        self.images: list[tuple[str, str]] = []  # (alt, src)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [v for k, v in attrs.items() if k in ("src", "href") and v]
        if tag == "script":
            self.scripts += 1
        if tag == "img":
            self.images.append((attrs.get("alt", ""), attrs.get("src", "")))
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def row(self, first: str, after: int = 0) -> list[str]:
        """The first table row at or after index `after` starting with `first`."""
        return next(r for r in self.rows[after:] if r and r[0] == first)


def assert_self_contained(page: Page) -> None:
    assert page.scripts == 0
    assert all(link.startswith("data:image/png;base64,") for link in page.links), page.links


def decoded_images(page: Page) -> list[Image.Image]:
    images = []
    for _, src in page.images:
        png = base64.b64decode(src.removeprefix("data:image/png;base64,"), validate=True)
        image = Image.open(io.BytesIO(png))
        image.load()  # decodes every pixel: a truncated PNG fails here
        assert image.format == "PNG" and image.width > 300 and image.height > 100
        images.append(image)
    return images


@pytest.fixture(scope="module")
def agents_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "agents.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in varied_agents()))
    return path


def test_a_coverage_report_holds_a_heat_map_per_language_and_every_count(
    agents_file, tmp_path, capsys
):
    out = tmp_path / "coverage.html"
    args = ["coverage", "--agents", str(agents_file), "--week-of", "2026-11-23"]
    assert main([*args, "--languages", "en,es,vi", "--json", "--report", str(out)]) == 0
    figures = json.loads(capsys.readouterr().out.splitlines()[-1])
    page = Page(out.read_text(encoding="utf-8"))
    assert_self_contained(page)
    assert [alt for alt, _ in page.images] == ["heat map, en", "heat map, es", "heat map, vi"]
    assert len(decoded_images(page)) == 3
    for language in ("en", "es", "vi"):  # the counts table of each language, row by row
        start = page.rows.index(next(r for r in page.rows if r[:2] == ["state", "Mon 00"]))
        for state in ("TX", "FL", "AL"):
            counts = figures["coverage"][state][language]["counts"]
            assert page.row(state, start)[1:] == [str(c) for c in counts]
        page.rows = page.rows[start + 1 :]  # the next language's tables follow
    text = out.read_text(encoding="utf-8")
    for gap in figures["gaps"]:
        assert gap["text"] in text


def test_a_dst_week_shows_the_missing_hour_as_such(agents_file, tmp_path):
    figures = count_coverage(
        agents_of(varied_agents()), load_policy(), date(2027, 3, 8), ["en"], agents_file="a"
    )
    out = tmp_path / "dst.html"
    write_coverage_report(figures, out)
    page = Page(out.read_text(encoding="utf-8"))
    counts_table = page.rows.index(next(r for r in page.rows if r[:2] == ["state", "Mon 00"]))
    texas = page.row("TX", counts_table)
    assert texas[1 + 6 * 24 + 2] == "-"  # Sunday 02:00 does not exist in Houston
    assert len(decoded_images(page)) == 1


def test_every_text_is_escaped(tmp_path):
    hostile = "<script>alert(1)</script>"
    figures = count_coverage(
        agents_of(varied_agents()[:3]),
        load_policy(),
        date(2026, 11, 23),
        ["en"],
        agents_file=f'{hostile}".jsonl',
    )
    figures["gaps"].append({"text": f"<img src=x onerror=alert(1)> {hostile}"})
    out = tmp_path / "escaped.html"
    write_coverage_report(figures, out)
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;.jsonl" in text
    assert_self_contained(Page(text))


@pytest.fixture(scope="module")
def simulation(tmp_path_factory) -> tuple[dict, Path]:
    """A real comparison: the shipped policy against a 10-minute offer window."""
    folder = tmp_path_factory.mktemp("simulation")
    agents = folder / "agents.jsonl"
    rows = Synthesizer(seed=5).agents(300)
    agents.write_text("".join(json.dumps(row) + "\n" for row in rows))
    window = folder / "window-10.toml"
    window.write_text(
        default_policy_text().replace("offer_window_minutes = 15", "offer_window_minutes = 10")
    )
    out = folder / "simulation.html"
    args = ["simulate", "--agents", str(agents), "--synthetic", "200", "--seed", "3"]
    stdout = io.StringIO()
    saved, sys.stdout = sys.stdout, stdout
    try:
        code = main([*args, "--compare", str(window), "--json", "--report", str(out)])
    finally:
        sys.stdout = saved
    assert code == 0
    return json.loads(stdout.getvalue().splitlines()[-1]), out


def test_a_simulation_report_has_its_four_plots_and_the_figures(simulation):
    result, out = simulation
    page = Page(out.read_text(encoding="utf-8"))
    assert_self_contained(page)
    assert [alt for alt, _ in page.images] == [
        "time to accept",
        "waiting over the day",
        "unmatched by state",
        "offers per agent",
    ]
    assert len(decoded_images(page)) == 4
    base, other = (run["figures"] for run in result["runs"])
    difference = result["comparison"]["differences"]
    row = page.row("requests")
    assert row[1:] == [str(base["requests"]), str(other["requests"]), str(difference["requests"])]
    p90 = page.row("time_to_accept_minutes.p90")
    assert p90[1] == f"{base['time_to_accept_minutes']['p90']:g}"
    assert page.row("missed_offers")[1:3] == [
        str(base["missed_offers"]),
        str(other["missed_offers"]),
    ]
    for state, group in base["by_state"].items():
        assert page.row(state)[1] == str(group["requests"])
    assert page.row("10+")[1:] == [
        str(f["offers_per_agent"]["histogram"]["10+"]) for f in (base, other, difference)
    ]


def test_a_simulation_report_draws_and_tabulates_the_time_to_accept_distribution(simulation):
    result, out = simulation
    page = Page(out.read_text(encoding="utf-8"))
    alts = [alt for alt, _ in page.images]
    plot = decoded_images(page)[alts.index("time to accept")]
    assert plot.height > 500  # the distribution, its CDF, and the by-hour panel below them
    figures = [run["figures"] for run in result["runs"]] + [result["comparison"]["differences"]]
    start = page.rows.index(page.row("minutes (bin from)"))
    assert len(page.row("minutes (bin from)")) == 1 + 2 * 3  # two histograms x (2 runs, difference)
    bins = list(figures[0]["time_to_accept_minutes"]["histogram"])
    assert bins[:2] == ["0", "1"] and bins[-1] == "120+"
    for number, label in enumerate(bins):  # bin by bin, in order
        row = page.rows[start + 1 + number]
        assert row == [
            label,
            *(
                str(f[key]["histogram"][label])
                for f in figures
                for key in ("time_to_accept_minutes", "offer_wait_minutes")
            ),
        ]


def test_a_simulation_report_tolerates_missing_figures(tmp_path):
    out = tmp_path / "sparse.html"
    write_simulation_report({"runs": [{"policy": "p.toml", "figures": {"requests": 7}}]}, out)
    page = Page(out.read_text(encoding="utf-8"))
    assert page.row("requests") == ["requests", "7"]
    assert page.images == [] and out.read_text().count("no data to plot") == 4
    write_simulation_report({}, out)
    assert_self_contained(Page(out.read_text(encoding="utf-8")))


def test_without_matplotlib_report_stops_with_one_line(agents_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    out = tmp_path / "never.html"
    args = ["coverage", "--agents", str(agents_file), "--report", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "hod-core[report]" in err and err.count("\n") == 1 and not out.exists()


def test_an_unwritable_report_path_is_named(agents_file, tmp_path, capsys):
    out = tmp_path / "no-such-folder" / "r.html"
    assert main(["coverage", "--agents", str(agents_file), "--report", str(out)]) == 2
    err = capsys.readouterr().err
    assert "r.html" in err and "cannot write the report" in err and "Traceback" not in err


def test_figures_without_histograms_still_plot_their_percentiles(tmp_path):
    """JSON written before the histograms: the CDF panel shows p50/p90/p99 alone."""
    spread = {"count": 3, "mean": 12.0, "p50": 17.0, "p90": 17.0, "p99": 17.0}
    out = tmp_path / "older.html"
    figures = {"requests": 4, "time_to_accept_minutes": spread}
    write_simulation_report({"runs": [{"policy": "p.toml", "figures": figures}]}, out)
    page = Page(out.read_text(encoding="utf-8"))
    assert [alt for alt, _ in page.images] == ["time to accept"]
    assert len(decoded_images(page)) == 1
    assert page.row("time_to_accept_minutes.p90") == ["time_to_accept_minutes.p90", "17"]
