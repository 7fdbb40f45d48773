"""Lineage benchmark: Python graph + layout time, and how the project lineage page behaves in
Chromium for a synthetic store of ~5,000 lineage nodes (versions + runs).

    python benchmarks/bench_lineage.py                    # ~5,000 nodes
    python benchmarks/bench_lineage.py --nodes 5000 --nodes 10000 --nodes 20000
    python benchmarks/bench_lineage.py --ungrouped        # 4 versions per collection
    python benchmarks/bench_lineage.py --layout-only      # Python layout scaling only

For each size: a store from ``synth.py`` (cached in benchmarks/out/stores/; 20 collections,
80% versions / 20% runs, 2 files per version; ``--ungrouped``: 4 versions per collection, so
that no sibling versions collapse into a group node and every node is drawn), a full ``sitegen.build`` (with
``FULL_GRAPH_LIMIT`` raised to the size for the measurement, so the full graph is drawn even
above the shipped limit), then the page ``lineage/index.html`` from ``file://`` in the system
Chromium, cytoscape served from the asset cache (real SRI check), nothing else on the network.

Reported per size:
* Python: build_graph, layout (the layered layout the page uses) and graph.js size;
* browser: time to ready (navigation start → graph drawn), data load, cytoscape init and
  first frame (``window.sitegenLineage.loadMs/initMs/renderMs``), longest main-thread task;
* responsiveness: mouse click on a node → details drawer shown (wall clock, from Python),
  select + upstream highlight in the page, a filter toggle, "expand all" of collapsed version
  groups (or one group, where "expand all" is not offered) and the frame time while zooming.

The shallow synthetic lineage (prep → dataset → train → model) is wide, not deep; the
``--layout-only`` table also times the layout of a deep chain-of-sweeps graph.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _common import OUT, cached_store, machine, source_label, store_shape, use_source

import sitegen
from sitegen import assets
from sitegen.build import BuildOptions, build
from sitegen.config import SiteConfig
from sitegen.lineage import Edge, Graph, Node, build_graph, closure
from sitegen.lineage_export import layout
from sitegen.model import build_model
from sitegen.pages import lineage as lineage_pages

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
COLLECTIONS = 20
INTERACTIVE_MS = 100  # a response within this feels immediate
READY_BUDGET_MS = 3000  # first view of the whole project graph


def shape_for(nodes: int, collections: int = COLLECTIONS) -> dict[str, int]:
    versions = max(1, round(nodes * 0.8 / collections))
    runs = max(1, nodes - versions * collections)
    return store_shape(collections, versions, 2, runs, 5)


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    value = fn(*args)
    return value, (time.perf_counter() - t) * 1000


# --------------------------------------------------------------------------- Python side


def deep_graph(nodes: int, width: int = 8) -> Graph:
    """Chains of sweeps: dataset:vK -> width train runs -> model versions -> eval -> dataset:vK+1."""
    ns: dict[str, Node] = {}
    es: list[Edge] = []
    k = 0
    prev: str | None = None
    while len(ns) < nodes:
        d = f"v:dataset/d:v{k}"
        ns[d] = Node(d, "version", f"d:v{k}", "dataset", "dataset/d", "")
        if prev:
            es.append(Edge(prev, d))
        ev = f"r:eval-{k}"
        ns[ev] = Node(ev, "run", ev, "evaluate", "", "finished")
        for i in range(width):
            r, m = f"r:train-{k}-{i}", f"v:model/m:v{k * width + i}"
            ns[r] = Node(r, "run", r, "train", "", "finished")
            ns[m] = Node(m, "version", f"m:v{k * width + i}", "model", "model/m", "")
            es += [Edge(d, r), Edge(r, m), Edge(m, ev)]
        prev = ev
        k += 1
    return Graph.of(dict(sorted(ns.items())), tuple(sorted(es, key=lambda e: (e.source, e.target))))


def layout_table(sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        g = deep_graph(n)
        _, ms = timed(layout, g)
        rows.append(
            {
                "shape": "deep sweeps",
                "nodes": len(g.nodes),
                "edges": len(g.edges),
                "layout_ms": round(ms),
            }
        )
    return rows


def python_side(store: Path) -> tuple[Graph, dict[str, Any]]:
    records, load_ms = timed(sitegen.Store(store).load)
    project, model_ms = timed(build_model, records, SiteConfig())
    graph, graph_ms = timed(build_graph, project)
    _, layout_ms = timed(layout, graph)
    return graph, {
        "nodes": len(graph.nodes),
        "edges": len(graph.edges),
        "load_ms": round(load_ms),
        "model_ms": round(model_ms),
        "build_graph_ms": round(graph_ms),
        "layout_ms": round(layout_ms),
    }


# --------------------------------------------------------------------------- browser side


def seal(context: Any, cache: Path) -> None:
    bodies = {a.cdn_url: (a, assets.read_cached(a, cache)) for a in assets.ASSETS.values()}

    def handle(route: Any) -> None:
        url = route.request.url
        if url in bodies:
            asset, body = bodies[url]
            route.fulfill(
                status=200,
                body=body,
                headers={"Content-Type": asset.content_type, "Access-Control-Allow-Origin": "*"},
            )
        elif url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            route.abort("blockedbyclient")

    context.route("**/*", handle)


LONG_TASKS = """
window.__longTasks = [];
try {
  new PerformanceObserver(list => list.getEntries().forEach(e => window.__longTasks.push(e.duration)))
    .observe({type: 'longtask', buffered: true});
} catch (e) {}
"""


CALIBRATE = """() => {
  const t = performance.now();
  const a = [];
  for (let i = 0; i < 300000; i++) a.push((i * 7919) % 100003);
  a.sort((x, y) => x - y);
  return performance.now() - t;
}"""


def frame_while_zooming(page: Any) -> float:
    """Median time of one zoom step until the next frame is drawn (ms)."""
    return page.evaluate(
        """async () => {
      const cy = window.sitegenLineage.cy, times = [];
      for (let i = 0; i < 8; i++) {
        const t = performance.now();
        const drawn = new Promise(r => cy.one('render', r));
        cy.zoom({level: cy.zoom() * (i % 2 ? 0.8 : 1.25), renderedPosition: {x: cy.width() / 2, y: cy.height() / 2}});
        await drawn;
        await new Promise(r => requestAnimationFrame(r));
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return times[times.length >> 1];
    }"""
    )


def browser_side(site: Path, graph: Graph, chromium: str, shots: Path | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        seal(context, assets.default_cache_dir())
        page = context.new_page()
        page.add_init_script(LONG_TASKS)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        t = time.perf_counter()
        page.goto((site / "lineage/index.html").as_uri())
        page.wait_for_selector(".lg-root[data-state=ready]", state="attached", timeout=120_000)
        page.wait_for_function("() => window.sitegenLineage.renderMs !== null", timeout=120_000)
        out["ready_ms"] = round((time.perf_counter() - t) * 1000)
        # a fixed CPU workload, to tell a slow page from a busy machine (compare runs by it)
        out["calibration_ms"] = round(page.evaluate(CALIBRATE))
        out["dom_content_loaded_ms"] = round(
            page.evaluate(
                "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
            )
        )
        api = page.evaluate(
            "() => { const L = window.sitegenLineage; return {load: L.loadMs, init: L.initMs, render: L.renderMs, "
            "nodes: L.cy.nodes().length, edges: L.cy.edges().length, visible: L.cy.nodes(':visible').length, "
            "phases: L.phases, "
            "groups: L.groups.length}; }"
        )
        out.update(
            {
                "load_ms": round(api["load"]),
                "init_ms": round(api["init"]),
                "render_ms": round(api["render"]),
                "cy_nodes": api["nodes"],
                "cy_edges": api["edges"],
                "visible_nodes": api["visible"],
                "groups": api["groups"],
                "phases_ms": {k: round(v) for k, v in api["phases"].items()},
            }
        )
        assert page.evaluate("() => window.sitegenLineage.model.nodes.length") == len(graph.nodes)

        # click → details, measured from Python (includes the Playwright round trip)
        target = max(
            graph.nodes,
            key=lambda k: (graph.nodes[k].kind == "run", len(closure(graph, k, "up")), k),
        )
        clicks = []
        for _ in range(3):
            page.evaluate("() => window.sitegenLineage.unselect()")
            page.evaluate(
                "id => { const L = window.sitegenLineage; L.cy.zoom(1); L.cy.center(L.cy.getElementById(id)); }",
                target,
            )
            box = page.locator(".lg-canvas").bounding_box()
            page.locator(".lg-canvas").scroll_into_view_if_needed()
            box = page.locator(".lg-canvas").bounding_box()
            t = time.perf_counter()
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_selector(".lg-details:not([hidden])", state="visible")
            clicks.append((time.perf_counter() - t) * 1000)
        out["click_to_details_ms"] = round(statistics.median(clicks))
        shown = page.evaluate("() => window.sitegenLineage.highlighted().length")
        out["highlighted"] = shown
        assert shown == len(closure(graph, target, "up")) + 1

        out["select_highlight_ms"] = round(
            page.evaluate(
                "id => { const t = performance.now(); window.sitegenLineage.select(id); return performance.now() - t; }",
                target,
            )
        )
        out["filter_toggle_ms"] = round(
            page.evaluate(
                """() => { const box = document.querySelector('.lg-filter input[type=checkbox]');
                const t = performance.now(); box.click(); box.click(); return (performance.now() - t) / 2; }"""
            )
        )
        out["zoom_frame_ms_initial"] = round(frame_while_zooming(page))
        if shots:
            page.screenshot(path=str(shots / f"lineage-{len(graph.nodes)}-initial.png"))
        expand = page.get_by_role("button", name="Expand all")
        if expand.count() and expand.is_enabled():
            t = time.perf_counter()
            expand.click()
            page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
            out["expand_all_ms"] = round((time.perf_counter() - t) * 1000)
        elif out["groups"]:
            out["expand_all"] = "disabled"
            out["expand_one_group_ms"] = round(
                page.evaluate(
                    """async () => { const L = window.sitegenLineage, t = performance.now();
                    L.expand(L.groups[0].id);
                    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
                    return performance.now() - t; }"""
                )
            )
        out["visible_after_expand"] = page.evaluate(
            "() => window.sitegenLineage.cy.nodes(':visible').length"
        )
        page.get_by_role("button", name="Fit").click()
        out["zoom_frame_ms_expanded"] = round(frame_while_zooming(page))
        if shots:
            page.screenshot(path=str(shots / f"lineage-{len(graph.nodes)}-expanded.png"))
        tasks = page.evaluate("() => window.__longTasks")
        out["longest_task_ms"] = round(max(tasks)) if tasks else 0
        out["long_tasks"] = len(tasks)
        out["errors"] = errors
        browser.close()
    return out


# --------------------------------------------------------------------------- main


def run_size(nodes: int, collections: int, chromium: str, shots: Path | None) -> dict[str, Any]:
    store, _ = cached_store(shape_for(nodes, collections))
    graph, py = python_side(store)
    site = OUT / f"lineage-site-{nodes}"
    if site.exists():
        shutil.rmtree(site)
    limit = lineage_pages.FULL_GRAPH_LIMIT
    lineage_pages.FULL_GRAPH_LIMIT = max(limit, len(graph.nodes))  # draw it, to measure it
    try:
        report, build_ms = timed(build, BuildOptions(store, site))
    finally:
        lineage_pages.FULL_GRAPH_LIMIT = limit
    py["build_s"] = round(build_ms / 1000, 1)
    py["pages"] = report.pages
    py["graph_js_bytes"] = (site / "data/lineage/graph.js").stat().st_size
    result = {
        "size": nodes,
        "collections": collections,
        "python": py,
        "browser": browser_side(site, graph, chromium, shots),
    }
    shutil.rmtree(site, ignore_errors=True)
    return result


def verdict(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in results:
        b = r["browser"]
        interactive = max(b["click_to_details_ms"], b["select_highlight_ms"], b["filter_toggle_ms"])
        ok = b["ready_ms"] <= READY_BUDGET_MS and interactive <= 3 * INTERACTIVE_MS
        lines.append(
            f"{r['python']['nodes']:>6} nodes in {r['collections']} collections: "
            f"ready {b['ready_ms']} ms (budget {READY_BUDGET_MS}), "
            f"slowest interaction {interactive} ms, zoom frame {b['zoom_frame_ms_expanded']} ms "
            f"with {b['visible_after_expand']} nodes shown, "
            f"longest task {b['longest_task_ms']} ms -> {'interactive' if ok else 'too slow'}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, action="append", help="lineage nodes (repeatable)")
    ap.add_argument("--layout-only", action="store_true", help="only time the Python layout")
    ap.add_argument(
        "--collections", type=int, help=f"collections in the store (default {COLLECTIONS})"
    )
    ap.add_argument(
        "--ungrouped",
        action="store_true",
        help="4 versions per collection, so no version group collapses (the worst case)",
    )
    ap.add_argument("--screenshots", type=Path, help="save page screenshots into this directory")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    ap.add_argument(
        "--src",
        default="snapshot",
        help="sitegen code to measure: 'snapshot' (default: a frozen copy of the work tree, "
        "which others may be editing), 'live' (the work tree itself) or a git commit",
    )
    args = ap.parse_args(argv)
    use_source(args.src, sys.argv)
    sizes = args.nodes or [5000]
    print(f"# bench_lineage: {source_label()}; {machine()}")
    print(f"# FULL_GRAPH_LIMIT = {lineage_pages.FULL_GRAPH_LIMIT}")
    layout_rows = layout_table(sorted({*sizes, 1000, 5000, 20000}))
    for row in layout_rows:
        print(
            f"layout ({row['shape']}): {row['nodes']} nodes, {row['edges']} edges: {row['layout_ms']} ms"
        )
    if args.layout_only:
        return 0
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    missing = [
        a.key for a, state in assets.cache_status(assets.default_cache_dir()) if state != "ok"
    ]
    if missing:
        print(
            f"asset cache incomplete ({', '.join(missing)}): run `sitegen assets fetch`",
            file=sys.stderr,
        )
        return 2
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    results = []
    for n in sizes:
        collections = args.collections or COLLECTIONS
        if args.ungrouped:
            collections = max(1, n * 4 // 20)  # 4 versions each: nothing to collapse
        result = run_size(n, collections, chromium, args.screenshots)
        results.append(result)
        print(json.dumps(result, sort_keys=True))
    for line in verdict(results):
        print(line)
    if args.json:
        args.json.write_text(
            json.dumps({"layout": layout_rows, "results": results}, indent=1) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
