"""The real pages in Chromium: navigation, charts, sorting, search, offline, hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Route

import sitegen
from sitegen.build import BuildOptions, build
from sitegen.charts import series
from tests.helpers import make_files

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project" / "store"
XSS = [
    '<script>window.__xss="script"</script>',
    '"><img src=x onerror="window.__xss=\'img\'">',
    "javascript:window.__xss='js'",
    "</script><script>window.__xss='break'</script>",
    "[click](javascript:window.__xss='md')",
    "{{ 7*7 }}<svg/onload=window.__xss='svg'>",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    build(BuildOptions(EXAMPLE, out))
    return out


def test_overview_to_collection_to_version_to_run(page: Page, site: Path) -> None:
    page.goto((site / "index.html").as_uri())
    page.get_by_role("link", name="weather-classifier", exact=True).first.click()
    assert page.url.endswith("artifacts/model/weather-classifier/index.html")
    assert "weather-classifier" in page.locator("h1").inner_text()
    page.locator("table.versions a[href='v1/index.html']").first.click()
    assert page.url.endswith("artifacts/model/weather-classifier/v1/index.html")
    page.get_by_role("link", name="train-weather-forest").first.click()
    assert page.url.endswith("runs/train-weather-forest/index.html")
    assert "finished" in page.locator("h1").inner_text()


def test_run_charts_have_one_point_per_step(page: Page, site: Path) -> None:
    history = sitegen.Store(EXAMPLE).load().histories["train-weather-forest"]
    page.goto((site / "runs/train-weather-forest/index.html").as_uri())
    charts = page.locator("div.chart[data-spec]")
    assert charts.count() >= 2
    first = charts.first
    first.scroll_into_view_if_needed()
    first.locator("svg").wait_for(timeout=15000)
    metric = page.locator(".chart-card h3, .chart-title").first.inner_text().strip().split()[0]
    points = first.locator("g.mark-symbol path")
    assert points.count() == len(series(history, metric))


def test_tables_sort_and_search_finds_runs(page: Page, site: Path) -> None:
    page.goto((site / "runs/index.html").as_uri())
    rows = page.locator("table.runs tbody tr")

    def names() -> list[str]:
        return [rows.nth(i).locator("td").first.inner_text().strip() for i in range(rows.count())]

    page.locator("table.runs thead th button").first.click()
    first_sort = names()
    assert first_sort in (sorted(first_sort), sorted(first_sort, reverse=True))
    page.locator("table.runs thead th button").first.click()
    assert names() == list(reversed(first_sort))
    page.locator("#site-search").fill("forest")
    results = page.locator("#site-search-results a")
    results.first.wait_for()
    assert any(
        "train-weather-forest" in results.nth(i).inner_text() for i in range(results.count())
    )
    results.filter(has_text="train-weather-forest").first.click()
    assert page.url.endswith("runs/train-weather-forest/index.html")


def hostile_store(root: Path) -> Path:
    store = root / "hostile"
    payload = " ".join(XSS)
    clock = sitegen.FixedClock()
    with sitegen.init(
        store=store,
        project=payload,
        job_type=XSS[1],
        name=XSS[0],
        id="evil",
        clock=clock,
        user=XSS[2],
        host=XSS[3],
        git={"commit": XSS[1]},
        notes=payload,
        tags=[XSS[5]],
        config={XSS[0]: XSS[1], "nested": {XSS[3]: [XSS[4]]}},
    ) as run:
        for step in range(3):
            run.log({XSS[1]: step / 10, "loss": 1 - step / 10})
        art = sitegen.Artifact(
            "data", type="dataset", description=payload, metadata={XSS[2]: XSS[5], "k": XSS[0]}
        )
        src = make_files(root / "src", {"a.txt": payload})
        art.add_file(src / "a.txt", name='x<script>window.__xss="path"</script>.txt')
        art.add_file(src / "a.txt", name="plain.txt")
        run.log_artifact(art, aliases=["candidate"])
        art2 = sitegen.Artifact(
            "data", type="dataset", description=payload, metadata={XSS[2]: XSS[4]}
        )
        art2.add_file(
            make_files(root / "src2", {"a.txt": payload + "!"}) / "a.txt", name="plain.txt"
        )
        run.log_artifact(art2)
    (store / "artifacts/dataset/data/collection.yaml").write_text(
        f"description: {json.dumps(payload)}\n"
    )
    return store


def test_hostile_strings_never_execute(page: Page, tmp_path: Path) -> None:
    store = hostile_store(tmp_path)
    config = tmp_path / "sitegen.yaml"
    config.write_text("publish_files:\n  max_bytes: 100000\n")
    out = tmp_path / "site"
    build(BuildOptions(store, out, config_path=config))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pages = sorted(out.rglob("*.html"))
    assert len(pages) >= 8
    for html in pages:
        page.goto(html.as_uri())
        page.wait_for_timeout(150)
        for link in page.locator("a[href^='javascript']").all():
            raise AssertionError(f"javascript: link in {html}: {link.get_attribute('href')}")
        assert page.evaluate("window.__xss") is None, html
    assert dialogs == []
    text = (out / "runs/evil/index.html").read_text()
    assert "&lt;script&gt;" in text and "<script>window.__xss" not in text


@pytest.fixture
def offline_context(new_context: object, browser: object) -> BrowserContext:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context()
    requests: list[str] = []

    def handle(route: Route) -> None:
        requests.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort("blockedbyclient")

    context.route("**/*", handle)
    context.requests = requests  # type: ignore[attr-defined]
    return context


def test_offline_site_renders_everything_with_network_blocked(
    offline_context: BrowserContext, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(BuildOptions(EXAMPLE, out, offline=True))
    page = offline_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    checks = {
        "index.html": None,
        "artifacts/model/weather-classifier/index.html": "div.chart svg",
        "artifacts/model/weather-classifier/v1/index.html": "canvas",
        "runs/train-weather-forest/index.html": "div.chart svg",
        "artifacts/model/weather-classifier/compare/v0..v1.html": "div.chart svg",
        "lineage/index.html": "canvas",
        "audit/index.html": None,
    }
    for url, selector in checks.items():
        page.goto((out / url).as_uri())
        if selector:
            page.locator(selector).first.wait_for(state="attached", timeout=15000)
    remote = [u for u in offline_context.requests if not u.startswith("file://")]  # type: ignore[attr-defined]
    assert remote == []
    assert errors == []
