"""The pinned CDN assets load in the real browser, with their real SRI check, and work.

Pages are opened from ``file://`` (as a downloaded or zipped site is); the conftest answers
the jsDelivr URLs from the local asset cache, so Chromium verifies ``integrity`` against
exactly the bytes the CDN serves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sitegen import assets

if TYPE_CHECKING:
    from conftest import BrowserErrors, NetworkLog
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

LOSS = [0.9, 0.6, 0.45, 0.4, 0.38]

CHART_SPEC: dict[str, Any] = {
    "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
    "data": {"values": [{"step": i, "loss": v} for i, v in enumerate(LOSS)]},
    "mark": {"type": "line", "point": True},
    "encoding": {
        "x": {"field": "step", "type": "quantitative"},
        "y": {"field": "loss", "type": "quantitative"},
    },
}

GRAPH_ELEMENTS = [
    {"data": {"id": "dataset"}},
    {"data": {"id": "train"}},
    {"data": {"id": "model"}},
    {"data": {"id": "e1", "source": "dataset", "target": "train"}},
    {"data": {"id": "e2", "source": "train", "target": "model"}},
]

APP = """
window.chartDone = vegaEmbed("#chart", %(spec)s, {renderer: "svg", actions: false})
  .then(function () { return true; });
window.cy = cytoscape({
  container: document.getElementById("graph"),
  elements: %(elements)s,
  layout: {name: "dagre", rankDir: "TB"},
});
"""


def script_tags(keys: Iterable[str], sri: Mapping[str, str] | None = None) -> str:
    tags = []
    for key in keys:
        asset = assets.ASSETS[key]
        integrity = (sri or {}).get(key, asset.sri)
        tags.append(
            f'<script src="{asset.cdn_url}" integrity="{integrity}" '
            'crossorigin="anonymous"></script>'
        )
    return "\n".join(tags)


def write_page(path: Path, head: str, app: str = "") -> str:
    path.write_text(
        "<!doctype html>\n<html><head><meta charset=utf-8><title>assets</title>\n"
        f"{head}\n</head><body>\n"
        '<div id="chart"></div>\n'
        '<div id="graph" style="width: 400px; height: 300px"></div>\n'
        f"<script>{app}</script>\n</body></html>\n",
        encoding="utf-8",
    )
    return path.as_uri()


def test_pinned_assets_load_and_render(
    page: Page, browser_errors: BrowserErrors, network_log: NetworkLog, tmp_path: Path
) -> None:
    app = APP % {"spec": json.dumps(CHART_SPEC), "elements": json.dumps(GRAPH_ELEMENTS)}
    url = write_page(
        tmp_path / "smoke.html", script_tags(assets.CHART_ASSETS + assets.GRAPH_ASSETS), app
    )
    page.goto(url)

    assert page.evaluate("() => window.chartDone") is True
    assert page.locator("#chart svg .mark-symbol path").count() == len(LOSS)
    assert page.locator("#chart svg .mark-line path").count() == 1

    assert page.evaluate("() => window.cy.nodes().length") == 3
    assert page.evaluate("() => window.cy.edges().length") == 2
    assert page.evaluate("() => typeof cytoscape('layout', 'dagre')") == "function"
    # dagre (top-to-bottom) puts the chain on three ranks, in order.
    ys = page.evaluate(
        "() => ['dataset', 'train', 'model'].map(id => window.cy.getElementById(id).position().y)"
    )
    assert ys[0] < ys[1] < ys[2]

    assert sorted(network_log.served) == sorted(
        assets.ASSETS[k].cdn_url for k in assets.CHART_ASSETS + assets.GRAPH_ASSETS
    )
    assert network_log.blocked == []
    browser_errors.assert_none()


def test_wrong_integrity_blocks_the_script(
    page: Page, browser_errors: BrowserErrors, network_log: NetworkLog, tmp_path: Path
) -> None:
    good = assets.ASSETS["vega-embed"].sri
    wrong = assets.sri_of(b"not vega-embed")
    assert wrong != good
    url = write_page(
        tmp_path / "tampered.html",
        script_tags(assets.CHART_ASSETS, sri={"vega-embed": wrong}),
    )
    page.goto(url)

    # The bytes arrived (served from the cache) but the browser refused to run them.
    assert assets.ASSETS["vega-embed"].cdn_url in network_log.served
    assert page.evaluate("() => typeof vegaEmbed") == "undefined"
    assert page.evaluate("() => typeof vega") == "object"
    assert page.evaluate("() => typeof vegaLite") == "object"
    assert any("integrity" in m for m in browser_errors.console), browser_errors.console


def test_vendored_assets_work_offline_from_file_url(
    page: Page,
    browser_errors: BrowserErrors,
    network_log: NetworkLog,
    asset_cache: Path,
    tmp_path: Path,
) -> None:
    """Offline mode: the copies under assets/vendor/ load from file:// with no request
    leaving the machine. Chromium cannot check integrity on file:// (no CORS there), so
    vendored <script> tags must not carry integrity/crossorigin (see the last check)."""
    site = tmp_path / "site"
    keys = assets.CHART_ASSETS + assets.GRAPH_ASSETS
    assets.vendor_assets(site, asset_cache, keys)
    tags = "\n".join(f'<script src="{assets.ASSETS[k].local_path}"></script>' for k in keys)
    app = APP % {"spec": json.dumps(CHART_SPEC), "elements": json.dumps(GRAPH_ELEMENTS)}
    page.goto(write_page(site / "offline.html", tags, app))

    assert page.evaluate("() => window.chartDone") is True
    assert page.locator("#chart svg .mark-symbol path").count() == len(LOSS)
    assert page.evaluate("() => window.cy.nodes().length") == 3
    assert network_log.served == []
    assert network_log.blocked == []
    assert all(u.startswith("file://") for u in network_log.passed)
    browser_errors.assert_none()

    # The gotcha, pinned: with integrity, a file:// script is refused outright.
    vega = assets.ASSETS["vega"]
    with_sri = f'<script src="{vega.local_path}" integrity="{vega.sri}"></script>'
    page.goto(write_page(site / "offline-sri.html", with_sri))
    assert page.evaluate("() => typeof vega") == "undefined"
