"""Lineage graphs in the real browser: the project page and the version/run panel.

Sites are built into tmp and opened from ``file://``; cytoscape comes from the (intercepted)
CDN with its real SRI check. What the page draws is compared with what Python computes
(``sitegen.lineage``): node and edge counts, highlighted upstream sets, neighbourhoods.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import sitegen
from sitegen import assets
from sitegen.build import BuildOptions, build
from sitegen.config import SiteConfig
from sitegen.lineage import Graph, build_graph, closure, neighbourhood, run_id, version_id
from sitegen.model import build_model
from tests.helpers import make_files

if TYPE_CHECKING:
    from conftest import BrowserErrors, NetworkLog
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "example_project" / "store"
READY = ".lg-root[data-state=ready]"
EVIL = '<img src=x onerror="window.__pwned=1">"\\ & </script>'


def graph_of(store: Path) -> Graph:
    return build_graph(build_model(sitegen.Store(store).load(), SiteConfig()))


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Graph]:
    out = tmp_path_factory.mktemp("lineage-example") / "site"
    build(BuildOptions(EXAMPLE, out))
    return out, graph_of(EXAMPLE)


def sweep_store(root: Path, work: Path) -> Path:
    """prep0 -> corpus:v0 -> sweep-0..4 -> grader:v0..v4 (five siblings, one column);
    corpus:v0 -> prep1 -> corpus:v1 -> sweep-5 -> grader:v5; a failed and a crashed run; an
    evaluation of v0 and v5 that also names a version that does not exist (broken edge);
    a run whose name and job type are hostile."""
    clock = sitegen.FixedClock("2024-05-01T00:00:00Z")
    common: dict[str, Any] = {
        "store": root,
        "project": "sweep",
        "clock": clock,
        "user": "u",
        "host": "h",
        "git": {},
    }

    def artifact(name: str, type_: str, text: str) -> sitegen.Artifact:
        art = sitegen.Artifact(name, type=type_)
        art.add_file(make_files(work / f"{name}-{text}", {"f.txt": text}) / "f.txt")
        return art

    with sitegen.init(job_type="prep", id="prep0", **common) as run:
        run.log_artifact(artifact("corpus", "dataset", "rows v0"))
    with sitegen.init(job_type="prep", id="prep1", **common) as run:
        run.use_artifact("corpus:v0")
        run.log_artifact(artifact("corpus", "dataset", "rows v1"))
    for i in range(6):
        name = EVIL if i == 2 else f"sweep-{i}"
        with sitegen.init(job_type="train", id=f"sweep-{i}", name=name, **common) as run:
            run.use_artifact("corpus:v0" if i < 5 else "corpus:v1")
            run.log({"accuracy": 0.5 + i / 20})
            aliases = ["production"] if i == 3 else []
            run.log_artifact(artifact("grader", "model", f"w{i}"), aliases=aliases)
    with (
        pytest.raises(RuntimeError),
        sitegen.init(job_type="train", id="diverged", **common) as run,
    ):
        run.use_artifact("corpus:v1")
        raise RuntimeError("loss is nan")
    killed = sitegen.init(job_type="train", id="killed", **common)
    killed.use_artifact("corpus:v1")  # never finished: shown as crashed
    with sitegen.init(job_type="evaluate", id="eval", **common) as run:
        run.use_artifact("grader:v0")
        run.use_artifact("grader:v5")
    path = root / "runs" / "eval" / "run.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["inputs"].append("dataset/ghost:v9")
    record["job_type"] = EVIL
    path.write_text(json.dumps(record), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Graph]:
    work = tmp_path_factory.mktemp("lineage-sweep")
    store = sweep_store(work / "store", work)
    build(BuildOptions(store, work / "site"))
    return work / "site", graph_of(store)


def open_graph(page: Page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_selector(READY, state="attached")


def js(page: Page, expression: str, arg: Any = None) -> Any:
    return page.evaluate(
        f"(arg) => {{ const L = window.sitegenLineage; return {expression}; }}", arg
    )


def visible_nodes(page: Page) -> list[str]:
    return sorted(js(page, "L.cy.nodes(':visible').map(n => n.id())"))


NODE_AT = "(() => { const p = L.cy.getElementById(arg).renderedPosition(); return [p.x, p.y]; })()"


def click_node(page: Page, node_id: str) -> None:
    """Bring the node into view, wait until it stops moving, then click it with the mouse.

    Clicking where the node *was* raced with relayouts (a resize after scrolling, an
    expanding group) and hit a neighbour now and then; so the node is clicked where it is.
    """
    js(page, "(L.cy.zoom(1), L.cy.center(L.cy.getElementById(arg)), true)", node_id)
    canvas = page.locator(".lg-canvas")
    canvas.scroll_into_view_if_needed()
    where = js(page, NODE_AT, node_id)
    for _ in range(40):
        page.wait_for_timeout(50)
        now = js(page, NODE_AT, node_id)
        if now == where:
            break
        where = now
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + where[0], box["y"] + where[1])


# --- the project lineage page -----------------------------------------------------------


def test_page_draws_every_node_and_edge(
    page: Page, example: tuple[Path, Graph], browser_errors: BrowserErrors, network_log: NetworkLog
) -> None:
    site, graph = example
    open_graph(page, site / "lineage/index.html")
    assert js(page, "L.cy.nodes().length") == len(graph.nodes)
    assert js(page, "L.cy.edges().length") == len(graph.edges)
    assert sorted(js(page, "L.cy.nodes().map(n => n.id())")) == sorted(graph.nodes)
    assert sorted(js(page, "L.cy.edges().map(e => e.source().id() + '>' + e.target().id())")) == (
        sorted(f"{e.source}>{e.target}" for e in graph.edges)
    )
    assert visible_nodes(page) == sorted(graph.nodes)
    # positions are the ones computed in Python
    payload = {n["id"]: n for n in js(page, "L.model.nodes")}
    positions = js(page, "Object.fromEntries(L.cy.nodes().map(n => [n.id(), n.position()]))")
    for key, pos in positions.items():
        assert (pos["x"], pos["y"]) == (payload[key]["x"], payload[key]["y"])
    assert js(page, "L.renderMs") > 0
    assert page.locator(".lg-fallback").is_hidden()
    assert page.locator(".lg-edge-table tbody tr").count() == len(graph.edges)
    assert network_log.blocked == []
    browser_errors.assert_none()


def test_clicking_a_node_shows_details_and_links_to_its_page(
    page: Page, example: tuple[Path, Graph], browser_errors: BrowserErrors
) -> None:
    site, _ = example
    open_graph(page, site / "lineage/index.html")
    details = page.locator(".lg-details")
    assert details.is_hidden()
    click_node(page, version_id("model/weather-classifier:v1"))
    assert details.is_visible()
    assert details.locator(".lg-details-title").text_content() == "weather-classifier:v1"
    assert "production" in details.locator(".chips").text_content()
    facts = details.locator(".lg-facts").text_content()
    assert "Digest" in facts and "Created" in facts
    assert "accuracy" in details.text_content()  # metrics of the producing run
    with page.expect_navigation():
        details.locator("a", has_text="Open version page").click()
    assert page.url.endswith("/artifacts/model/weather-classifier/v1/index.html")
    assert page.locator("h1").first.text_content().startswith("weather-classifier")

    page.go_back()
    page.wait_for_selector(READY, state="attached")
    click_node(page, run_id("train-weather-boosting-bad-lr"))
    assert "failed" in details.locator(".lg-facts").text_content()
    assert "Config" in details.text_content()
    with page.expect_navigation():
        details.locator("a", has_text="Open run page").click()
    assert page.url.endswith("/runs/train-weather-boosting-bad-lr/index.html")
    browser_errors.assert_none()


def test_selecting_a_node_highlights_exactly_its_upstream(
    page: Page, example: tuple[Path, Graph], browser_errors: BrowserErrors
) -> None:
    site, graph = example
    open_graph(page, site / "lineage/index.html")
    for key in graph.nodes:
        assert js(page, "L.select(arg)", key) is True
        expected = sorted(closure(graph, key, "up") | {key})
        assert js(page, "L.highlighted()") == expected, key
        dimmed = sorted(js(page, "L.cy.nodes('.dim').map(n => n.id())"))
        assert dimmed == sorted(set(graph.nodes) - set(expected)), key
    # through the UI: "Go to" picks the node, "Highlight" switches to downstream
    target = version_id("dataset/seattle-weather:v1")
    page.get_by_label("Go to").select_option(target)
    assert js(page, "L.highlighted()") == sorted(closure(graph, target, "up") | {target})
    page.get_by_label("Highlight").select_option("down")
    assert js(page, "L.highlighted()") == sorted(closure(graph, target, "down") | {target})
    page.get_by_label("Highlight").select_option("both")
    both = closure(graph, target, "down") | closure(graph, target, "up") | {target}
    assert js(page, "L.highlighted()") == sorted(both)
    assert page.get_attribute(".lg-root", "data-highlighted-count") == str(len(both))
    page.keyboard.press("Escape")
    assert js(page, "L.highlighted()") == []
    assert js(page, "L.cy.nodes('.dim').length") == 0
    browser_errors.assert_none()


def test_filters_hide_the_right_nodes(
    page: Page, example: tuple[Path, Graph], browser_errors: BrowserErrors
) -> None:
    site, graph = example
    open_graph(page, site / "lineage/index.html")
    page.locator(".lg-filter", has_text="Artifact types").get_by_label("model").uncheck()
    models = {k for k, n in graph.nodes.items() if n.kind == "version" and n.type == "model"}
    assert models
    assert visible_nodes(page) == sorted(set(graph.nodes) - models)
    page.locator(".lg-filter", has_text="Job types").get_by_label("train").uncheck()
    trains = {k for k, n in graph.nodes.items() if n.kind == "run" and n.type == "train"}
    shown = set(graph.nodes) - models - trains
    assert visible_nodes(page) == sorted(shown)
    visible_edges = js(
        page, "L.cy.edges(':visible').map(e => e.source().id() + '>' + e.target().id())"
    )
    assert sorted(visible_edges) == sorted(
        f"{e.source}>{e.target}" for e in graph.edges if e.source in shown and e.target in shown
    )
    assert "of 23 nodes shown" in page.locator(".lg-count").text_content()
    page.locator(".lg-filter", has_text="Artifact types").get_by_label("model").check()
    assert visible_nodes(page) == sorted(set(graph.nodes) - trains)
    page.get_by_role("button", name="Reset").click()
    assert visible_nodes(page) == sorted(graph.nodes)
    browser_errors.assert_none()


def test_search_pans_to_and_selects_a_node(
    page: Page, example: tuple[Path, Graph], browser_errors: BrowserErrors
) -> None:
    site, graph = example
    open_graph(page, site / "lineage/index.html")
    search = page.get_by_label("Find")
    search.fill("bad-lr")
    assert "1 match" in page.locator(".lg-status").text_content()
    search.press("Enter")
    key = run_id("train-weather-boosting-bad-lr")
    assert js(page, "L.cy.$(':selected').map(n => n.id())") == [key]
    # the node is in view: its rendered position lies inside the canvas
    pos = js(page, "L.cy.getElementById(arg).renderedPosition()", key)
    assert 0 < pos["x"] < js(page, "L.cy.width()") and 0 < pos["y"] < js(page, "L.cy.height()")
    assert page.locator(".lg-details-title").text_content() == "train-weather-boosting-bad-lr"
    # the keyboard way: every node is an option of "Go to"
    assert page.get_by_label("Go to").locator("option").count() == len(graph.nodes) + 1
    # controls are real buttons, reachable with Tab
    for name in ("Fit", "Zoom in", "Zoom out", "Reset"):
        assert page.get_by_role("button", name=name).count() == 1
    zoom = js(page, "L.cy.zoom()")
    page.get_by_role("button", name="Zoom in").focus()
    page.keyboard.press("Enter")
    assert js(page, "L.cy.zoom()") > zoom
    # the canvas itself takes the keyboard: arrows pan, - zooms out
    page.locator(".lg-canvas").focus()
    pan = js(page, "L.cy.pan()")
    page.keyboard.press("ArrowLeft")
    assert js(page, "L.cy.pan().x") == pytest.approx(pan["x"] + 60)
    zoom = js(page, "L.cy.zoom()")
    page.keyboard.press("-")
    assert js(page, "L.cy.zoom()") < zoom
    browser_errors.assert_none()


def test_dagre_relayout_and_back(
    page: Page, example: tuple[Path, Graph], browser_errors: BrowserErrors
) -> None:
    site, _ = example
    open_graph(page, site / "lineage/index.html")
    preset = js(page, "L.cy.nodes().map(n => [n.position('x'), n.position('y')])")
    button = page.get_by_role("button", name="Dagre layout")
    assert button.is_enabled()
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    assert js(page, "L.cy.nodes().map(n => [n.position('x'), n.position('y')])") != preset
    button.click()
    assert js(page, "L.cy.nodes().map(n => [n.position('x'), n.position('y')])") == preset
    browser_errors.assert_none()


def test_wrong_sri_blocks_cytoscape_and_the_edge_table_stays(
    page: Page,
    example: tuple[Path, Graph],
    cdn_responses: dict[str, tuple[assets.Asset, bytes]],
    browser_errors: BrowserErrors,
) -> None:
    site, graph = example
    asset = assets.ASSETS["cytoscape"]
    body = cdn_responses[asset.cdn_url][1] + b"\n/* tampered */\n"

    def tampered(route: Route) -> None:
        route.fulfill(
            status=200,
            body=body,
            headers={"Content-Type": asset.content_type, "Access-Control-Allow-Origin": "*"},
        )

    page.route(asset.cdn_url, tampered)
    for url, rows in (
        ("lineage/index.html", len(graph.edges)),
        (
            "artifacts/model/weather-classifier/v2/index.html",
            len(neighbourhood(graph, version_id("model/weather-classifier:v2"), 3).edges),
        ),
    ):
        page.goto((site / url).as_uri())
        page.wait_for_selector(".lg-root[data-state=unavailable]", state="attached")
        assert page.evaluate("() => typeof window.cytoscape") == "undefined"
        assert page.locator(".lg-root").is_hidden()
        assert page.locator(".lg-fallback").is_visible()
        assert "unavailable" in page.locator(".lg-fallback").text_content()
        table = page.locator(".lg-edge-table")
        assert table.is_visible()
        assert table.locator("tbody tr").count() == rows
    assert any("integrity" in message.lower() for message in browser_errors.console)


# --- the neighbourhood panel of version and run pages -----------------------------------------


@pytest.mark.parametrize(
    ("url", "centre"),
    [
        (
            "artifacts/dataset/seattle-weather/v1/index.html",
            version_id("dataset/seattle-weather:v1"),
        ),
        ("runs/train-weather-forest/index.html", run_id("train-weather-forest")),
    ],
)
def test_panel_depth_and_direction_follow_python(
    page: Page,
    example: tuple[Path, Graph],
    browser_errors: BrowserErrors,
    url: str,
    centre: str,
) -> None:
    site, graph = example
    open_graph(page, site / url)
    full = neighbourhood(graph, centre, 3, "both")
    assert js(page, "L.cy.nodes().length") == len(full.nodes)
    assert js(page, "L.cy.edges().length") == len(full.edges)
    assert js(page, "L.cy.nodes('.centre').map(n => n.id())") == [centre]
    counts = set()
    for direction in ("both", "up", "down"):
        page.get_by_label("Direction").select_option(direction)
        for depth in (1, 2, 3):
            page.get_by_label("Depth").select_option(str(depth))
            expected = sorted(neighbourhood(graph, centre, depth, direction).nodes)
            assert visible_nodes(page) == expected, (direction, depth)
            assert js(page, "L.visibleIds()") == expected
            counts.add(len(expected))
    assert len(counts) > 2  # the choices made a difference
    assert (
        page.locator("#lineage-graph .lg-project-link a")
        .get_attribute("href")
        .endswith("lineage/index.html")
    )
    browser_errors.assert_none()


def test_panel_screenshot_smoke(page: Page, example: tuple[Path, Graph], tmp_path: Path) -> None:
    site, _ = example
    page.set_viewport_size({"width": 1100, "height": 900})
    open_graph(page, site / "artifacts/model/weather-classifier/v2/index.html")
    panel = page.locator("#lineage-graph")
    panel.scroll_into_view_if_needed()
    shot = panel.screenshot(path=str(tmp_path / "panel.png"))
    assert len(shot) > 5000  # drawn, not blank


# --- groups, diff, broken edges, hostile names (a synthetic sweep) ------------------------------


def test_sweep_collapses_siblings_and_expands_on_click(
    page: Page, sweep: tuple[Path, Graph], browser_errors: BrowserErrors
) -> None:
    site, graph = sweep
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_graph(page, site / "lineage/index.html")
    assert js(page, "L.model.nodes.length") == len(graph.nodes)
    assert js(page, "L.model.edges.length") == len(graph.edges)
    siblings = [version_id(f"model/grader:v{i}") for i in range(5)]
    assert js(page, "L.groups.map(g => g.members.slice().sort())") == [sorted(siblings)]
    assert js(page, "L.cy.nodes('.group:visible').length") == 1
    hidden = set(graph.nodes) - set(visible_nodes(page))
    assert hidden == set(siblings)
    # the group stands in for its members: it is wired to their neighbours
    group = js(page, "L.groups[0].id")
    neighbours = sorted(
        js(page, "L.cy.getElementById(arg).neighborhood('node').map(n => n.id())", group)
    )
    assert neighbours == sorted([run_id(f"sweep-{i}") for i in range(5)] + [run_id("eval")])
    # hidden members are added to cytoscape when first shown
    assert js(page, "L.cy.nodes().not('.group').length") == len(graph.nodes) - len(siblings)
    click_node(page, group)
    assert js(page, "L.cy.nodes('.group:visible').length") == 0
    assert set(siblings) <= set(visible_nodes(page))
    assert js(page, "L.cy.edges('.meta').length") == 0
    assert js(page, "L.cy.nodes().not('.group').length") == len(graph.nodes)
    assert js(page, "L.cy.edges().length") == len(graph.edges)
    page.get_by_role("button", name="Collapse groups").click()
    assert not set(siblings) & set(visible_nodes(page))
    # selecting a member (here: through "Go to") opens its group
    page.get_by_label("Go to").select_option(siblings[3])
    assert siblings[3] in visible_nodes(page)
    assert js(page, "L.highlighted()") == sorted(closure(graph, siblings[3], "up") | {siblings[3]})
    assert dialogs == [] and page.evaluate("() => window.__pwned") is None
    browser_errors.assert_none()


def test_sweep_diff_marks_the_symmetric_difference_of_upstreams(
    page: Page, sweep: tuple[Path, Graph], browser_errors: BrowserErrors
) -> None:
    site, graph = sweep
    open_graph(page, site / "lineage/index.html")
    a, b = version_id("model/grader:v0"), version_id("model/grader:v5")
    diff = page.locator(".lg-diff")
    diff.get_by_label("Collection").select_option("model/grader")
    diff.get_by_label("A", exact=True).select_option(a)
    diff.get_by_label("B", exact=True).select_option(b)
    diff.get_by_role("button", name="Mark differences").click()
    expected = closure(graph, a, "up") ^ closure(graph, b, "up")
    assert expected == {
        run_id("sweep-0"),
        run_id("sweep-5"),
        run_id("prep1"),
        version_id("dataset/corpus:v1"),
    }
    assert js(page, "L.diffMarked()") == sorted(expected)
    assert sorted(js(page, "L.cy.nodes('.diff-a').map(n => n.id())")) == [run_id("sweep-0")]
    assert "only behind" in page.locator(".lg-status").text_content()
    undimmed = set(js(page, "L.cy.nodes(':visible').not('.dim').map(n => n.id())"))
    assert undimmed == expected | {a, b}
    diff.get_by_role("button", name="Clear").click()
    assert js(page, "L.diffMarked()") == []
    assert js(page, "L.cy.nodes('.dim').length") == 0
    browser_errors.assert_none()


def test_sweep_statuses_broken_edges_and_hostile_text(
    page: Page, sweep: tuple[Path, Graph], browser_errors: BrowserErrors
) -> None:
    site, graph = sweep
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_graph(page, site / "lineage/index.html")
    ghost = version_id("dataset/ghost:v9")
    assert graph.nodes[ghost].kind == "missing-version"
    assert js(page, "L.cy.getElementById(arg).data('lineStyle')", ghost) == "dashed"
    broken = js(page, "L.cy.edges('.broken').map(e => e.source().id() + '>' + e.target().id())")
    assert broken == [f"{ghost}>{run_id('eval')}"]
    assert js(page, "L.cy.edges('.broken')[0].style('line-style')") == "dashed"
    assert graph.nodes[run_id("killed")].status == "crashed"
    statuses = {
        key: js(page, "L.cy.getElementById(arg).hasClass('run-bad')", key)
        for key in (run_id("diverged"), run_id("killed"), run_id("sweep-1"))
    }
    assert statuses == {run_id("diverged"): True, run_id("killed"): True, run_id("sweep-1"): False}
    assert js(page, "L.cy.getElementById(arg).data('display')", run_id("killed")).endswith(
        "crashed"
    )

    # hostile run name / job type: shown as text, never as markup
    page.get_by_label("Go to").select_option(run_id("sweep-2"))
    assert page.locator(".lg-details-title").text_content() == EVIL
    page.get_by_label("Go to").select_option(run_id("eval"))
    assert EVIL in page.locator(".lg-details").text_content()
    assert page.locator(".lg-filter", has_text="Job types").get_by_label(EVIL).count() == 1
    assert page.locator("img").count() == 0
    assert dialogs == [] and page.evaluate("() => window.__pwned") is None
    # the broken reference has no page to link to
    page.get_by_label("Go to").select_option(ghost)
    assert page.locator(".lg-details a").count() == 0
    assert "not in the store" in page.locator(".lg-details").text_content()
    browser_errors.assert_none()


def test_run_page_panel_of_a_hostile_run(
    page: Page, sweep: tuple[Path, Graph], browser_errors: BrowserErrors
) -> None:
    site, graph = sweep
    open_graph(page, site / "runs/eval/index.html")
    centre = run_id("eval")
    assert sorted(js(page, "L.cy.nodes().map(n => n.id())")) == sorted(
        neighbourhood(graph, centre, 3).nodes
    )
    # only grader:v0 and v5 are within 3 hops, in different columns: nothing to collapse
    assert js(page, "L.groups.length") == 0
    assert page.evaluate("() => window.__pwned") is None
    browser_errors.assert_none()


def test_an_empty_graph_needs_no_script(page: Page, tmp_path: Path) -> None:
    store = tmp_path / "store"
    art = sitegen.Artifact("alone", type="dataset")
    art.add_file(make_files(tmp_path / "src", {"a.txt": "a"}) / "a.txt")
    sitegen.Store(
        store, project="p", clock=sitegen.FixedClock("2024-01-01T00:00:00Z")
    ).log_artifact(art)
    build(BuildOptions(store, tmp_path / "site"))
    page.goto((tmp_path / "site/lineage/index.html").as_uri())
    page.wait_for_selector(".lg-root[data-state]", state="attached")
    page.goto((tmp_path / "site/artifacts/dataset/alone/v0/index.html").as_uri())
    assert "Nothing connects" in page.locator("#lineage-graph").text_content()
