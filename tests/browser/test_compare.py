"""The comparison pages in a real browser, opened from ``file://``.

* the any-versions page (``compare.html``): pick three versions, change the baseline,
  toggle "only differences", reload from the URL and see the same view; the highlighted
  cells are exactly the ones ``sitegen compare --format json`` reports;
* compare.js computes what sitegen/compare.py computes, on crafted data too;
* the pre-rendered pair page draws its curves and shows content diffs;
* hostile strings from the store stay text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import sitegen
from sitegen.build import BuildOptions, build
from sitegen.cli import main
from sitegen.compare import file_changes, keyed_rows, metric_rows
from sitegen.config import MetricSpec, SiteConfig
from sitegen.store.files import FileEntry

if TYPE_CHECKING:
    from conftest import BrowserErrors, NetworkLog
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_STORE = ROOT / "example_project" / "store"
COLLECTION = "model/weather-classifier"
STATE_TABLES = ("metrics", "config", "metadata", "files")
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "site"
    build(BuildOptions(EXAMPLE_STORE, out))
    return out


def any_url(site: Path, collection: str = COLLECTION) -> str:
    return (site / "artifacts" / collection / "compare.html").as_uri()


def cli_json(capsys: pytest.CaptureFixture[str], refs: list[str], baseline: int = 0) -> Any:
    capsys.readouterr()
    code = main(
        [
            "compare",
            *refs,
            *("--store", str(EXAMPLE_STORE), "--format", "json", "--baseline", str(baseline)),
        ]
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)


# --- what the page shows, read from the DOM ---------------------------------------------------

READ_VIEW = """() => {
  const out = {columns: [], tables: {}, best: {}, differs: {}, hidden: {}};
  out.columns = Array.from(
    document.querySelectorAll('#compare-output table[data-table="metrics"] thead th.vcol')
  ).map(th => Number(th.dataset.version));
  for (const table of document.querySelectorAll('#compare-output table[data-table]')) {
    const name = table.dataset.table;
    const rows = {};
    const best = {};
    const differs = {};
    const hidden = [];
    for (const tr of table.querySelectorAll('tbody tr[data-key]')) {
      const key = tr.dataset.key;
      const cells = Array.from(tr.querySelectorAll('td[data-state]'));
      rows[key] = cells.map(td => td.dataset.state);
      const b = cells.flatMap((td, i) => td.dataset.best === 'true' ? [i] : []);
      if (b.length) best[key] = b;
      differs[key] = tr.dataset.differs === 'true';
      if (tr.offsetParent === null) hidden.push(key);
    }
    out.tables[name] = rows;
    out.best[name] = best;
    out.differs[name] = differs;
    out.hidden[name] = hidden;
  }
  out.hash = location.hash;
  out.checked = Array.from(document.querySelectorAll('#compare-controls input[data-version]'))
    .filter(b => b.checked).map(b => Number(b.dataset.version)).sort();
  out.baseline = document.getElementById('compare-baseline').value;
  out.only = document.getElementById('only-differences').checked;
  return out;
}"""


def wait_for_view(page: Page, versions: int) -> None:
    """Until the output shows ``versions`` columns (data scripts loaded, tables built)."""
    page.wait_for_function(
        """(n) => document.querySelectorAll(
             '#compare-output table[data-table="summary"] thead th.vcol').length === n""",
        arg=versions,
    )


def read_view(page: Page) -> dict[str, Any]:
    return page.evaluate(READ_VIEW)


# --- what the JSON says ------------------------------------------------------------------------


def keyed_states(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {r["key"]: [c["state"] for c in r["cells"]] for r in rows}


def metric_states(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    out = {}
    for r in rows:
        states = []
        for i, (value, delta) in enumerate(zip(r["values"], r["deltas"], strict=True)):
            if i == 0:
                states.append("base" if value is not None else "missing")
            elif value is None:
                states.append("missing")
            else:
                states.append("added" if delta is None else delta["better"])
        out[r["name"]] = states
    return out


def file_states(result: dict[str, Any]) -> dict[str, list[str]]:
    """Path -> state per column (baseline first), for the paths that differ anywhere."""
    n = len(result["versions"])
    rows: dict[str, list[str]] = {}
    in_base: set[str] = set()
    for fc in result["files"]:
        i = fc["against"]
        marks = [(f["path"], "added") for f in fc["added"]]
        marks += [(f["path"], "removed") for f in fc["removed"]]
        marks += [(f["path"], "changed") for f in fc["modified"]]
        marks += [(r["to"], "renamed") for r in fc["renamed"]]
        marks += [(r["from"], "renamed") for r in fc["renamed"]]
        marks += [(p, "same") for p in fc["unchanged"]]
        for path, state in marks:
            rows.setdefault(path, ["missing"] * n)[i] = state
        in_base |= {f["path"] for f in fc["removed"] + fc["modified"]}
        in_base |= set(fc["unchanged"]) | {r["from"] for r in fc["renamed"]}
    out = {}
    for path, cells in rows.items():
        if any(c in ("added", "removed", "changed", "renamed") for c in cells):
            out[path] = ["base" if path in in_base else "missing", *cells[1:]]
    return out


def assert_view_matches(view: dict[str, Any], result: dict[str, Any]) -> None:
    assert view["tables"]["config"] == keyed_states(result["config"])
    assert view["tables"]["metadata"] == keyed_states(result["metadata"])
    assert view["tables"]["metrics"] == metric_states(result["metrics"])
    assert view["best"]["metrics"] == {m["name"]: m["best"] for m in result["metrics"] if m["best"]}
    assert view["tables"].get("files", {}) == file_states(result)
    for name in ("config", "metadata"):
        assert view["differs"][name] == {r["key"]: r["differs"] for r in result[name]}
    assert view["differs"]["metrics"] == {m["name"]: m["differs"] for m in result["metrics"]}


# --- the any-versions page ---------------------------------------------------------------------


def test_any_versions_pick_baseline_only_differences_and_reload(
    page: Page,
    browser_errors: BrowserErrors,
    network_log: NetworkLog,
    site: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(any_url(site))
    # No hash: the two newest versions, the older one as baseline, written into the URL.
    wait_for_view(page, 2)
    assert page.locator("#compare-nojs").is_hidden()
    view = read_view(page)
    assert view["hash"] == "#v=1,2&base=1"
    assert view["columns"] == [1, 2]
    assert_view_matches(view, cli_json(capsys, [f"{COLLECTION}:v1", f"{COLLECTION}:v2"]))

    # Pick a third version, make the newest the baseline, show only differences.
    page.locator('#compare-controls input[data-version="0"]').check()
    wait_for_view(page, 3)
    page.select_option("#compare-baseline", "2")
    page.wait_for_function(
        """() => document.querySelector(
             '#compare-output table[data-table="summary"] thead th.vcol')?.dataset.version === '2'"""
    )
    page.locator("#only-differences").check()
    view = read_view(page)
    assert view["hash"] == "#v=0,1,2&base=2&only=1"
    assert view["columns"] == [2, 0, 1]  # baseline first, then oldest to newest
    assert view["checked"] == [0, 1, 2] and view["baseline"] == "2" and view["only"] is True

    # The highlighted cells are what `sitegen compare` says, for the same selection/baseline.
    refs = [f"{COLLECTION}:v2", f"{COLLECTION}:v0", f"{COLLECTION}:v1"]
    result = cli_json(capsys, refs)
    assert_view_matches(view, result)
    # ...and the same with the CLI's own --baseline on the natural order.
    natural = cli_json(capsys, [f"{COLLECTION}:v0", f"{COLLECTION}:v1", f"{COLLECTION}:v2"], 2)
    assert {r["key"] for r in natural["config"] if r["differs"]} == {
        r["key"] for r in result["config"] if r["differs"]
    }
    # Only differences: every row the JSON calls "same" is hidden, every other row shown.
    for name in ("config", "metadata", "metrics"):
        same = sorted(k for k, differs in view["differs"][name].items() if not differs)
        assert sorted(view["hidden"][name]) == same, name
    assert view["hidden"]["config"], "the example has config keys that are the same everywhere"
    # Colour is not the only signal: changed cells carry a text marker.
    first_changed = page.locator('#compare-output td[data-state="changed"]').first
    assert "changed" in first_changed.inner_text() or "~" in first_changed.inner_text()
    page.screenshot(path=str(site.parent / "any-versions.png"), full_page=True)

    # Reload from the URL: the same view.
    page.reload()
    wait_for_view(page, 3)
    again = read_view(page)
    assert again == view

    # Editing the hash by hand (or following a link) switches the view too.
    page.evaluate("() => { location.hash = '#v=0,2'; }")
    wait_for_view(page, 2)
    view = read_view(page)
    assert view["columns"] == [0, 2] and view["only"] is False and view["baseline"] == "0"
    assert_view_matches(view, cli_json(capsys, [f"{COLLECTION}:v0", f"{COLLECTION}:v2"]))

    # Overlaid training curves, one chart per shared metric.
    page.wait_for_function(
        "() => document.querySelectorAll('#compare-output #curves .chart svg').length >= 1"
    )
    charts = page.locator("#compare-output #curves .chart").count()
    assert charts == len(cli_json(capsys, [f"{COLLECTION}:v0", f"{COLLECTION}:v2"])["curves"])
    assert network_log.blocked == []
    browser_errors.assert_none()


def test_any_versions_needs_two(page: Page, browser_errors: BrowserErrors, site: Path) -> None:
    page.goto(any_url(site) + "#v=1")
    page.wait_for_function("() => document.getElementById('compare-status').textContent !== ''")
    assert "one more" in page.locator("#compare-status").inner_text()
    assert page.locator("#compare-output table").count() == 0
    page.locator('#compare-controls button[data-select="all"]').click()
    wait_for_view(page, 3)
    assert page.evaluate("() => location.hash") == "#v=0,1,2&base=1"
    browser_errors.assert_none()


# --- compare.js computes what compare.py computes ----------------------------------------------

CRAFTED_MAPS: list[dict[str, Any] | None] = [
    {
        "lr": 0.001,
        "tiny": 1.5e-07,
        "big": 1e16,
        "opt": {"name": "adam", "betas": [0.9, 0.999], "z": {}, "a": []},
        "flag": True,
        "as_int": 1,
        "text": "1",
        "list": list(range(201)),
        "nested": [{"b": 2, "a": "x"}, [1, [2]]],
        "é": "accent",
        "\U0001f600": "astral",
        "\uff5e": "fullwidth",
        "dotted.key": {"x": 1},
        "dotted": {"key": {"x": 2}},
    },
    {
        "lr": 0.01,
        "tiny": 1.5e-07,
        "big": 1e16,
        "opt": {"name": "adam", "betas": [0.9, 0.99, 1e-8], "z": {"k": None}},
        "flag": 1,
        "as_int": True,
        "text": 1,
        "list": list(range(200)),
        "nested": [{"a": "x", "b": 2}],
        "\U0001f600": "astral",
        XSS: XSS,
    },
    None,
    {},
]

CRAFTED_SUMMARIES: list[dict[str, Any] | None] = [
    {"accuracy": 0.5, "val_loss": 1.25, "score": 3, "text": "x", "flag": True, "zero": 0},
    {"accuracy": 0.75, "val_loss": float("nan"), "score": 1, "zero": 2, "only": 5},
    None,
    {"accuracy": 0.75, "val_loss": 0.5, "score": float("inf"), "zero": 0},
]

CRAFTED_FILES = [
    {"a.txt": "same", "b.txt": "old", "x/1": "dup", "x/2": "dup", "gone": "bye"},
    {"a.txt": "same", "b.txt": "new!", "y/1": "dup", "y/2": "dup", "y/3": "dup", "ÿ": "n"},
]


def entry_dict(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {p: {"sha256": f"sha-{c}", "size": len(c)} for p, c in files.items()}


def file_entries(files: dict[str, str]) -> tuple[FileEntry, ...]:
    return tuple(FileEntry(p, f"sha-{c}", len(c)) for p, c in files.items())


def test_compare_js_matches_compare_py(
    page: Page, browser_errors: BrowserErrors, site: Path
) -> None:
    page.goto(any_url(site))
    page.wait_for_function("() => window.SitegenCompare !== undefined")
    for base in (0, 1, 3):
        got = page.evaluate(
            "([maps, base]) => window.SitegenCompare.keyedRows(maps, base)", [CRAFTED_MAPS, base]
        )
        assert got == keyed_rows(CRAFTED_MAPS, base), base

    config = SiteConfig(metrics=(MetricSpec("score", "lower"),))
    for base in (0, 1):
        got = page.evaluate(
            "([s, base, d, lower]) => window.SitegenCompare.metricRows(s, base, d, lower)",
            [CRAFTED_SUMMARIES, base, {"score": "lower"}, None],
        )
        want = metric_rows(CRAFTED_SUMMARIES, base, config)
        assert [r["name"] for r in got] == [r["name"] for r in want]
        for g, w in zip(got, want, strict=True):
            assert (g["direction"], g["values"], g["best"], g["differs"]) == (
                w["direction"],
                w["values"],
                w["best"],
                w["differs"],
            ), w["name"]
            for gd, wd in zip(g["deltas"], w["deltas"], strict=True):
                if wd is None:
                    assert gd is None
                else:
                    assert gd["better"] == wd["better"]
                    assert gd["abs"] == pytest.approx(wd["abs"])
                    assert (gd["pct"] is None) == (wd["pct"] is None)
                    if wd["pct"] is not None:
                        assert gd["pct"] == pytest.approx(wd["pct"])

    old, new = CRAFTED_FILES
    got = page.evaluate(
        "([a, b]) => window.SitegenCompare.fileChanges(a, b)", [entry_dict(old), entry_dict(new)]
    )
    assert got == file_changes(file_entries(old), file_entries(new))
    browser_errors.assert_none()


# --- the pre-rendered pair page ------------------------------------------------------------------


def test_pair_page_curves_content_diffs_and_toggle(
    page: Page, browser_errors: BrowserErrors, network_log: NetworkLog, site: Path
) -> None:
    url = (site / "artifacts" / COLLECTION / "compare" / "v0..v1.html").as_uri()
    page.goto(url)
    charts = page.locator("#curves div.chart")
    assert charts.count() == 4
    page.wait_for_function("() => document.querySelectorAll('#curves div.chart svg').length === 4")
    assert page.locator("#curves div.chart.chart-failed").count() == 0

    diff = page.locator('article.content-diff[data-path="model.json"]')
    diff.scroll_into_view_if_needed()
    assert diff.is_visible()
    assert (
        diff.locator('table.structural tr[data-key="family"] td[data-state="changed"]').count() == 1
    )
    assert diff.locator("table.sbs tr[data-tag='replace']").count() > 0
    assert "random_forest" in diff.locator("table.sbs").inner_text()
    diff.locator("details.unified > summary").click()
    assert '+  "family": "random_forest",' in diff.locator("pre.diff").inner_text()
    csv = page.locator('article.content-diff[data-path="predictions.csv"]')
    assert csv.locator("table.csv-columns tr[data-key]").count() > 0

    toggle = page.locator("#only-differences")
    assert toggle.is_visible()
    same_row = page.locator('table[data-table="config"] tr[data-differs="false"]').first
    assert same_row.is_visible()
    toggle.check()
    assert same_row.is_hidden()
    assert page.locator('table[data-table="config"] tr[data-differs="true"]').first.is_visible()
    page.screenshot(path=str(site.parent / "pair.png"), full_page=True)
    assert network_log.blocked == []
    browser_errors.assert_none()


# --- hostile strings ------------------------------------------------------------------------------


def test_hostile_strings_stay_text(
    page: Page, browser_errors: BrowserErrors, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    handle = sitegen.Store(store, project="x", clock=sitegen.FixedClock("2024-01-01T00:00:00Z"))
    for i, value in enumerate((XSS, XSS + "!")):
        src = tmp_path / f"src{i}"
        src.mkdir()
        (src / "data.txt").write_text(f"v{i}\n", encoding="utf-8")
        art = sitegen.Artifact("m", type="model", metadata={XSS: value, "n": {XSS: i}})
        art.add_file(src / "data.txt")
        handle.log_artifact(art)
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    page.goto((out / "artifacts" / "model" / "m" / "compare.html").as_uri() + "#v=0,1")
    wait_for_view(page, 2)
    rows = page.locator('#compare-output table[data-table="metadata"] tbody tr')
    assert rows.count() == 2
    key_row = page.locator('#compare-output table[data-table="metadata"] tbody tr').first
    assert XSS in key_row.inner_text()
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#compare-output img, #compare-output script").count() == 0
    notes = page.locator("#compare-output .cmp-notes").inner_text()
    assert "has no producing run" in notes
    browser_errors.assert_none()
