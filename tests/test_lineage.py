"""Lineage: closures, neighbourhoods, cycles and the layout on crafted graphs; the exports
(DOT, Mermaid, JSON) under hostile labels; the example store's graph; broken and cyclic
lineage in hand-edited stores; the lineage pages and ``sitegen lineage``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import sitegen
from sitegen.build import BuildOptions, build
from sitegen.cli import main
from sitegen.config import SiteConfig
from sitegen.lineage import (
    Edge,
    Graph,
    Node,
    build_graph,
    closure,
    find_cycles,
    neighbourhood,
    run_id,
    subgraph,
    version_id,
)
from sitegen.lineage_export import LAYER_GAP, dumps, layout, to_dot, to_json, to_mermaid
from sitegen.model import build_model
from sitegen.pages.lineage import FULL_GRAPH_LIMIT

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project" / "store"

HOSTILE = 'evil "quoted" \\back\\slash\\ <script>alert(1)</script> #1 & ; {x} [y]'

# --- crafted graphs -----------------------------------------------------------------------


def node(key: str, label: str | None = None, kind: str | None = None) -> Node:
    """``v:…`` keys are versions, ``r:…`` runs; the label defaults to the key's tail."""
    if kind is None:
        kind = "run" if key.startswith("r:") else "version"
    coll = key[2:].rpartition(":")[0] if kind == "version" else ""
    type_ = coll.split("/")[0] if coll else "train"
    return Node(key, kind, label or key[2:], type_, coll, "finished" if kind == "run" else "")


def graph(edges: list[tuple[str, str]], extra: tuple[str, ...] = (), **labels: str) -> Graph:
    keys = sorted({k for e in edges for k in e} | set(extra))
    nodes = {k: node(k, labels.get(k.replace(":", "_").replace("/", "_"))) for k in keys}
    return Graph.of(nodes, tuple(Edge(a, b) for a, b in sorted(edges)))


# raw:v0 -> prep -> clean:v0 -> train -> model:v0 -> eval -> report:v0
#                  clean:v0 -> train2 -> model:v1 -> eval
#                               extra:v0 -> train2
PIPELINE = [
    ("v:d/raw:v0", "r:prep"),
    ("r:prep", "v:d/clean:v0"),
    ("v:d/clean:v0", "r:train"),
    ("r:train", "v:m/model:v0"),
    ("v:d/clean:v0", "r:train2"),
    ("v:d/extra:v0", "r:train2"),
    ("r:train2", "v:m/model:v1"),
    ("v:m/model:v0", "r:eval"),
    ("v:m/model:v1", "r:eval"),
    ("r:eval", "v:e/report:v0"),
]


def test_closure_up_and_down() -> None:
    g = graph(PIPELINE, extra=("v:d/lonely:v0",))
    assert closure(g, "v:m/model:v0", "up") == {"r:train", "v:d/clean:v0", "r:prep", "v:d/raw:v0"}
    assert closure(g, "v:m/model:v1", "up") == {
        "r:train2",
        "v:d/clean:v0",
        "v:d/extra:v0",
        "r:prep",
        "v:d/raw:v0",
    }
    assert closure(g, "v:d/clean:v0", "down") == {
        "r:train",
        "r:train2",
        "v:m/model:v0",
        "v:m/model:v1",
        "r:eval",
        "v:e/report:v0",
    }
    assert closure(g, "v:d/raw:v0", "up") == frozenset()
    assert closure(g, "v:e/report:v0", "down") == frozenset()
    assert closure(g, "v:d/lonely:v0", "up") == closure(g, "v:d/lonely:v0", "down") == set()
    assert closure(g, "v:not/there:v0", "up") == frozenset()
    # up and down are mirror images: b is upstream of a exactly when a is downstream of b
    for a in g.nodes:
        for b in closure(g, a, "up"):
            assert a in closure(g, b, "down")


def test_closure_excludes_the_start_even_on_a_cycle() -> None:
    g = graph([("v:d/a:v0", "r:x"), ("r:x", "v:d/a:v0")])
    assert closure(g, "v:d/a:v0", "up") == {"r:x"}
    assert closure(g, "v:d/a:v0", "down") == {"r:x"}


def test_neighbourhood_depth_and_direction() -> None:
    g = graph(PIPELINE)
    centre = "v:m/model:v1"
    assert set(neighbourhood(g, centre, 0, "both").nodes) == {centre}
    assert set(neighbourhood(g, centre, 1, "up").nodes) == {centre, "r:train2"}
    assert set(neighbourhood(g, centre, 2, "up").nodes) == {
        centre,
        "r:train2",
        "v:d/clean:v0",
        "v:d/extra:v0",
    }
    assert set(neighbourhood(g, centre, 2, "down").nodes) == {centre, "r:eval", "v:e/report:v0"}
    both = neighbourhood(g, centre, 2, "both")
    assert set(both.nodes) == set(neighbourhood(g, centre, 2, "up").nodes) | set(
        neighbourhood(g, centre, 2, "down").nodes
    )
    # directed, not undirected: model:v0 shares a consumer (eval) but is neither up- nor
    # downstream of model:v1
    assert "v:m/model:v0" not in neighbourhood(g, centre, 5, "both").nodes
    # edges of a neighbourhood are exactly the graph's edges between kept nodes
    assert set(both.edges) == {
        e for e in g.edges if e.source in both.nodes and e.target in both.nodes
    }
    # large depth = the closures
    assert set(neighbourhood(g, centre, 100, "up").nodes) == closure(g, centre, "up") | {centre}
    assert set(neighbourhood(g, centre, 100, "down").nodes) == closure(g, centre, "down") | {centre}


def test_subgraph_keeps_adjacency_consistent() -> None:
    g = graph(PIPELINE)
    sub = subgraph(g, ["v:d/clean:v0", "r:train", "v:m/model:v0", "v:not/there:v0"])
    assert set(sub.nodes) == {"v:d/clean:v0", "r:train", "v:m/model:v0"}
    assert sub.successors() == {"v:d/clean:v0": ["r:train"], "r:train": ["v:m/model:v0"]}
    assert sub.predecessors() == {"r:train": ["v:d/clean:v0"], "v:m/model:v0": ["r:train"]}


def test_find_cycles() -> None:
    assert find_cycles(graph(PIPELINE)) == []
    cyclic = graph(
        [
            *PIPELINE,
            ("v:e/report:v0", "r:prep"),  # report feeds prep again: a long cycle
            ("v:x/a:v0", "r:loop"),
            ("r:loop", "v:x/a:v0"),  # a two-node cycle
            ("r:self", "r:self"),  # a self-loop
        ]
    )
    cycles = find_cycles(cyclic)
    assert cycles == sorted(cycles)
    assert ["r:self"] in cycles
    assert ["r:loop", "v:x/a:v0"] in cycles
    long = next(c for c in cycles if "r:prep" in c)
    assert set(long) == {
        "r:prep",
        "v:d/clean:v0",
        "r:train",
        "r:train2",
        "v:m/model:v0",
        "v:m/model:v1",
        "r:eval",
        "v:e/report:v0",
    }  # raw:v0 and extra:v0 feed the cycle but are not on it
    assert len(cycles) == 3


def test_layout_is_layered_left_to_right_and_deterministic() -> None:
    g = graph(PIPELINE, extra=("v:d/lonely:v0",))
    positions = layout(g)
    assert set(positions) == set(g.nodes)
    for e in g.edges:
        assert positions[e.source][0] < positions[e.target][0], e
    assert all(x % LAYER_GAP == 0 for x, _ in positions.values())
    assert len(set(positions.values())) == len(positions), "two nodes share a position"
    # longest-path layering: report is 6 hops after raw
    assert positions["v:e/report:v0"][0] - positions["v:d/raw:v0"][0] == 6 * LAYER_GAP
    # the same graph built from differently ordered input lays out identically
    shuffled = Graph.of(dict(reversed(list(g.nodes.items()))), tuple(reversed(g.edges)))
    assert layout(shuffled) == positions
    assert layout(g) == positions


def test_layout_survives_cycles() -> None:
    g = graph([*PIPELINE, ("v:e/report:v0", "r:prep"), ("r:self", "r:self")])
    positions = layout(g)
    assert set(positions) == set(g.nodes)
    assert len(set(positions.values())) == len(positions)
    assert layout(g) == positions


def four_sweep_layout(g: Graph) -> dict[str, tuple[int, int]]:
    """The layout as first written: every column reordered in each of the four sweeps."""
    from sitegen.lineage_export import ROW_GAP, SWEEPS, _barycentre_order, layers

    layer = layers(g)
    columns: dict[int, list[str]] = {}
    for n in sorted(g.nodes, key=lambda n: (g.nodes[n].collection, g.nodes[n].label, n)):
        columns.setdefault(layer[n], []).append(n)
    preds, succ = g.predecessors(), g.successors()
    position = {n: i for col in columns.values() for i, n in enumerate(col)}
    for sweep in range(SWEEPS):
        neighbours = preds if sweep % 2 == 0 else succ
        for key in sorted(columns, reverse=sweep % 2 == 1):
            columns[key] = _barycentre_order(columns[key], neighbours, position)
            position.update({n: i for i, n in enumerate(columns[key])})
    return {
        n: (k * LAYER_GAP, i * ROW_GAP) for k, col in columns.items() for i, n in enumerate(col)
    }


@pytest.mark.parametrize("seed", range(40))
def test_layout_stops_early_only_where_more_sweeps_would_move_nothing(seed: int) -> None:
    import random

    rng = random.Random(seed)
    keys = [f"{'r' if i % 2 else 'v'}:c{i % 3}/n:v{i}" for i in range(rng.randint(2, 40))]
    edges = {
        (a, b)
        for _ in range(rng.randint(1, 80))
        for a, b in [rng.sample(keys, 2)]
        if rng.random() < 0.9 or a < b  # mostly acyclic, some cycles
    }
    g = graph(sorted(edges), extra=tuple(keys))
    assert layout(g) == four_sweep_layout(g)


# --- exports ------------------------------------------------------------------------------


def hostile_graph() -> Graph:
    nodes = {
        "r:evil": Node("r:evil", "run", HOSTILE, 'job "x"', "", "failed"),
        "v:d/a:v0": Node("v:d/a:v0", "version", "a:v0", "d", "d/a", "", ("production", "x")),
        "v:d/gone:v3": Node("v:d/gone:v3", "missing-version", "d/gone:v3", "missing", "", ""),
        "r:multi": Node("r:multi", "run", "line one\nline two\r\nthree", "train", "", "finished"),
    }
    edges = (
        Edge("r:evil", "v:d/a:v0"),
        Edge("v:d/a:v0", "r:multi"),
        Edge("v:d/gone:v3", "r:evil", broken=True),
    )
    return Graph.of(nodes, edges)


DOT_STRING = r'"((?:[^"\\]|\\.)*)"'
DOT_NODE = re.compile(
    rf'^  {DOT_STRING} \[label={DOT_STRING}, shape=(box|ellipse)(?:, style="dashed")?\];$'
)
DOT_EDGE = re.compile(rf'^  {DOT_STRING} -> {DOT_STRING}(?: \[style="dashed", color="red"\])?;$')


def dot_unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def parse_dot(text: str) -> tuple[dict[str, str], list[tuple[str, str, bool]]]:
    """A strict reader for what to_dot writes: every line is known, braces balance."""
    lines = text.split("\n")[:-1]  # "\r" may stay raw inside a quoted string
    assert lines[:3] == ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    assert lines[-1] == "}" and text.endswith("}\n")
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, bool]] = []
    for line in lines[3:-1]:
        if m := DOT_NODE.match(line):
            nodes[dot_unquote(m[1])] = dot_unquote(m[2])
        elif m := DOT_EDGE.match(line):
            edges.append((dot_unquote(m[1]), dot_unquote(m[2]), "dashed" in line))
        else:
            raise AssertionError(f"unexpected DOT line: {line!r}")
    # braces balance outside quoted strings
    bare = re.sub(DOT_STRING, '""', text)
    assert bare.count("{") == bare.count("}") == 1
    return nodes, edges


def test_dot_export_is_strict_and_escapes_labels() -> None:
    g = hostile_graph()
    text = to_dot(g)
    nodes, edges = parse_dot(text)
    assert nodes["r:evil"] == HOSTILE
    assert nodes["v:d/a:v0"] == "a:v0 (production, x)"
    assert nodes["r:multi"] == "line one\nline two\r\nthree"
    assert set(nodes) == set(g.nodes)
    assert sorted(edges) == sorted((e.source, e.target, e.broken) for e in g.edges)
    assert '[style="dashed", color="red"]' in text
    assert 'style="dashed"];' in text  # the missing node


def test_dot_export_parses_with_pydot_when_installed() -> None:
    pydot = pytest.importorskip("pydot")
    g = hostile_graph()
    (parsed,) = pydot.graph_from_dot_data(to_dot(g))
    names = {n.get_name().strip('"') for n in parsed.get_nodes()} - {"node"}
    assert names == set(g.nodes)
    assert len(parsed.get_edges()) == len(g.edges)


MERMAID_NODE = re.compile(r'^  (n\d+)(?:\(\["([^"]*)"\]\)|\["([^"]*)"\])$')
MERMAID_EDGE = re.compile(r"^  (n\d+) (-->|-\.->\|missing\|) (n\d+)$")
MERMAID_CLASS = re.compile(r"^  class (n\d+) (version|run|missing_version|missing_run)$")
MERMAID_CLASSDEF = re.compile(r"^  classDef (missing_version|missing_run) stroke-dasharray: 5 5$")


def mermaid_decode(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m[1])), text)


def parse_mermaid(text: str) -> tuple[dict[str, str], list[tuple[str, str, bool]]]:
    """A strict reader for what to_mermaid writes. A quoted label never holds a raw quote;
    it may hold a raw line break, which Mermaid accepts (checked with mermaid 11's parser)."""
    assert text.count('"') % 2 == 0
    protected = re.sub(r'"[^"]*"', lambda m: m[0].replace("\n", "\0"), text)
    lines = [line.replace("\0", "\n") for line in protected.split("\n")[:-1]]
    assert lines[0] == "flowchart LR"
    labels: dict[str, str] = {}
    edges: list[tuple[str, str, bool]] = []
    for line in lines[1:]:
        if m := MERMAID_NODE.match(line):
            assert m[1] not in labels, f"{m[1]} declared twice"
            labels[m[1]] = mermaid_decode(m[2] if m[2] is not None else m[3])
        elif m := MERMAID_EDGE.match(line):
            assert m[1] in labels and m[3] in labels, f"edge to an undeclared id: {line}"
            edges.append((m[1], m[3], "missing" in m[2]))
        elif m := MERMAID_CLASS.match(line):
            assert m[1] in labels
        elif not MERMAID_CLASSDEF.match(line):
            raise AssertionError(f"unexpected Mermaid line: {line!r}")
    return labels, edges


def test_mermaid_export_is_sane() -> None:
    g = hostile_graph()
    text = to_mermaid(g)
    labels, edges = parse_mermaid(text)
    assert len(labels) == len(g.nodes) and len(edges) == len(g.edges)
    # labels keep their text (as Mermaid entity codes), never a raw quote or angle bracket
    assert HOSTILE in labels.values()
    assert "a:v0 (production, x)" in labels.values()
    for line in text.splitlines():
        if line.startswith("  n") and '"' in line:
            inner = line[line.index('"') + 1 : line.rindex('"')]
            assert '"' not in inner and "<" not in inner and ">" not in inner
    assert "line one\nline two\r\nthree" in labels.values()
    assert sum(broken for *_, broken in edges) == 1


def test_json_export_round_trips() -> None:
    g = hostile_graph()
    data = json.loads(dumps(to_json(g)))
    assert data["format"] == 1
    assert {n["id"]: n["label"] for n in data["nodes"]}["r:evil"] == HOSTILE
    assert [(e["source"], e["target"], e["broken"]) for e in data["edges"]] == [
        (e.source, e.target, e.broken) for e in g.edges
    ]
    assert dumps(to_json(g)) == dumps(to_json(g))


# --- the example store --------------------------------------------------------------------


def graph_of(store: Path) -> Graph:
    return build_graph(build_model(sitegen.Store(store).load(), SiteConfig()))


@pytest.fixture(scope="module")
def example_graph() -> Graph:
    return graph_of(EXAMPLE)


def test_example_store_graph(example_graph: Graph) -> None:
    g = example_graph
    records = sitegen.Store(EXAMPLE).load()
    versions = sum(
        len(sitegen.Store(EXAMPLE).versions(c)) for c in sitegen.Store(EXAMPLE).collections()
    )
    assert len(g.nodes) == versions + len(records.runs) == 23
    assert len(g.edges) == 23
    kinds = {n.kind for n in g.nodes.values()}
    assert kinds == {"version", "run"}
    assert not any(e.broken for e in g.edges)
    assert find_cycles(g) == []
    assert g.nodes[run_id("train-weather-boosting-bad-lr")].status == "failed"
    assert g.nodes[version_id("model/weather-classifier:v1")].aliases == ("production",)
    assert closure(g, version_id("model/weather-classifier:v2"), "up") == {
        run_id("train-weather-boosting"),
        version_id("dataset/seattle-weather:v2"),
        run_id("prep-weather-2014"),
        version_id("dataset/seattle-weather:v1"),
        run_id("prep-weather-2013"),
        version_id("dataset/seattle-weather:v0"),
        run_id("prep-weather-2012"),
    }
    assert len(g.nodes) <= FULL_GRAPH_LIMIT


def read_payload(site: Path) -> dict[str, Any]:
    text = (site / "data/lineage/graph.js").read_text(encoding="utf-8")
    prefix = "window.SITEGEN_LINEAGE = "
    assert text.startswith(prefix) and text.endswith(";\n")
    return json.loads(text[len(prefix) : -2])


def panel_payload(html: str) -> dict[str, Any]:
    m = re.search(
        r'<script type="application/json" id="lineage-graph-data">(.*?)</script>', html, re.S
    )
    assert m, "no lineage panel data"
    return json.loads(m[1])


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lineage") / "site"
    build(BuildOptions(EXAMPLE, out))
    return out


def test_example_site_lineage_page_and_exports(example_site: Path, example_graph: Graph) -> None:
    g = example_graph
    page = (example_site / "lineage/index.html").read_text(encoding="utf-8")
    assert 'class="lg-root"' in page and 'data-src="../data/lineage/graph.js"' in page
    assert "assets/lineage.js" in page and "assets/lineage.css" in page
    assert page.count("<tr") - 1 == len(g.edges)  # the edge table, minus its header row
    for name in ("lineage.mmd", "lineage.dot", "lineage.json"):
        assert f'href="{name}"' in page
    assert (example_site / "lineage/lineage.mmd").read_text() == to_mermaid(g)
    assert (example_site / "lineage/lineage.dot").read_text() == to_dot(g)
    assert json.loads((example_site / "lineage/lineage.json").read_text()) == json.loads(
        dumps(to_json(g))
    )
    payload = read_payload(example_site)
    assert [n["id"] for n in payload["nodes"]] == list(g.nodes)
    assert len(payload["edges"]) == len(g.edges)
    positions = layout(g)
    assert all((n["x"], n["y"]) == positions[n["id"]] for n in payload["nodes"])
    hrefs = {n["id"]: n["href"] for n in payload["nodes"]}
    assert hrefs[version_id("model/weather-classifier:v2")] == (
        "../artifacts/model/weather-classifier/v2/index.html"
    )
    assert hrefs[run_id("train-weather-forest")] == "../runs/train-weather-forest/index.html"
    for href in hrefs.values():
        assert (example_site / "lineage" / href).resolve().is_file()
    assert (example_site / "assets/lineage.js").is_file()
    assert (example_site / "assets/lineage.css").is_file()


def test_example_site_panels_hold_the_neighbourhood(
    example_site: Path, example_graph: Graph
) -> None:
    cases = {
        "artifacts/model/weather-classifier/v2/index.html": version_id(
            "model/weather-classifier:v2"
        ),
        "artifacts/dataset/cars/v0/index.html": version_id("dataset/cars:v0"),
        "runs/train-weather-boosting-bad-lr/index.html": run_id("train-weather-boosting-bad-lr"),
    }
    for url, centre in cases.items():
        html = (example_site / url).read_text(encoding="utf-8")
        assert html.count("{% include") == 0
        payload = panel_payload(html)
        assert payload["centre"] == centre
        expected = neighbourhood(example_graph, centre, 3, "both")
        assert {n["id"] for n in payload["nodes"]} == set(expected.nodes)
        assert len(payload["edges"]) == len(expected.edges)
        assert 'data-max-depth="3"' in html
        assert (
            'href="../../../../lineage/index.html"' in html
            or 'href="../../lineage/index.html"' in html
        )
        for n in payload["nodes"]:
            if n["href"]:
                assert (example_site / url).parent.joinpath(n["href"]).resolve().is_file()


# --- hand-edited stores: broken references, cycles, hostile names ---------------------------


def edit_run(store: Path, run: str, **changes: Any) -> Path:
    path = store / "runs" / run / "run.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key.startswith("add_"):
            record[key[4:]] = [*record[key[4:]], value]
        else:
            record[key] = value
    path.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return path


@pytest.fixture
def store_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLE, tmp_path / "store"))


def test_broken_lineage_is_a_warning_and_the_edge_is_marked(
    store_copy: Path, tmp_path: Path
) -> None:
    edit_run(store_copy, "train-mpg-ridge", add_inputs="dataset/cars:v7")
    report = build(BuildOptions(store_copy, tmp_path / "site"))
    warnings = [p for p in report.problems if "dataset/cars:v7" in p.message]
    assert warnings and all(p.severity == "warning" for p in warnings)
    assert any(p.path.endswith("runs/train-mpg-ridge/run.json") for p in warnings)

    g = graph_of(store_copy)
    missing = version_id("dataset/cars:v7")
    assert g.nodes[missing].kind == "missing-version"
    assert Edge(missing, run_id("train-mpg-ridge"), broken=True) in g.edges
    assert sum(e.broken for e in g.edges) == 1
    site = tmp_path / "site"
    page = (site / "lineage/index.html").read_text(encoding="utf-8")
    assert "lg-broken-row" in page and "missing version" in page
    payload = read_payload(site)
    (node,) = [n for n in payload["nodes"] if n["id"] == missing]
    assert node["kind"] == "missing-version" and node["href"] is None
    assert [e for e in payload["edges"] if e["broken"]] == [
        {"source": missing, "target": run_id("train-mpg-ridge"), "broken": True}
    ]
    assert "-.->|missing|" in (site / "lineage/lineage.mmd").read_text()
    assert 'color="red"' in (site / "lineage/lineage.dot").read_text()
    run_page = (site / "runs/train-mpg-ridge/index.html").read_text(encoding="utf-8")
    assert missing in {n["id"] for n in panel_payload(run_page)["nodes"]}


def test_a_cycle_is_a_warning_naming_a_run_file(store_copy: Path, tmp_path: Path) -> None:
    # cars:v1 -> train-mpg-ridge -> mpg-regressor:v0 -> prep-cars-clean -> cars:v1
    edit_run(store_copy, "prep-cars-clean", add_inputs="model/mpg-regressor:v0")
    edit_run(store_copy, "train-mpg-ridge", add_outputs="dataset/cars:v0")
    report = build(BuildOptions(store_copy, tmp_path / "site"))
    cycle_problems = [p for p in report.problems if "cycle" in p.message]
    assert cycle_problems
    assert all(p.severity == "warning" for p in cycle_problems)
    assert any(
        re.search(r"runs/(prep-cars-clean|train-mpg-ridge)/run\.json$", p.path)
        for p in cycle_problems
    )
    g = graph_of(store_copy)
    cycles = find_cycles(g)
    assert any({run_id("prep-cars-clean"), run_id("train-mpg-ridge")} <= set(c) for c in cycles)
    payload = read_payload(tmp_path / "site")
    assert len(payload["nodes"]) == len(g.nodes)
    assert len({(n["x"], n["y"]) for n in payload["nodes"]}) == len(g.nodes)
    with pytest.raises(sitegen.SitegenError):
        build(BuildOptions(store_copy, tmp_path / "strict", strict=True))


def test_hostile_names_are_escaped_everywhere(store_copy: Path, tmp_path: Path) -> None:
    evil = "</script><img src=x onerror=alert(1)>\"'&"
    edit_run(store_copy, "train-weather-forest", name=evil, job_type=evil)
    build(BuildOptions(store_copy, tmp_path / "site"))
    site = tmp_path / "site"
    for url in (
        "lineage/index.html",
        "runs/train-weather-forest/index.html",
        "artifacts/model/weather-classifier/v1/index.html",
    ):
        html = (site / url).read_text(encoding="utf-8")
        assert "<img src=x" not in html, url
        assert html.count("</script>") == html.count("<script"), url
    script = (site / "data/lineage/graph.js").read_text(encoding="utf-8")
    assert "<" not in script and ">" not in script
    assert evil in {n["label"] for n in read_payload(site)["nodes"]}
    html = (site / "artifacts/model/weather-classifier/v1/index.html").read_text(encoding="utf-8")
    assert evil in {n["label"] for n in panel_payload(html)["nodes"]}
    parse_dot((site / "lineage/lineage.dot").read_text(encoding="utf-8"))
    parse_mermaid((site / "lineage/lineage.mmd").read_text(encoding="utf-8"))


# --- sitegen lineage ---------------------------------------------------------------------


def test_cli_lineage_formats(example_graph: Graph, capsys: pytest.CaptureFixture[str]) -> None:
    centre = version_id("model/weather-classifier:v2")
    store = str(EXAMPLE)
    assert main(["lineage", "model/weather-classifier:v2", "--store", store]) == 0
    assert capsys.readouterr().out == to_mermaid(neighbourhood(example_graph, centre, 100, "both"))

    args = ["lineage", "weather-classifier:candidate", "--store", store, "--format", "dot"]
    assert main([*args, "--depth", "1", "--direction", "up"]) == 0
    nodes, _ = parse_dot(capsys.readouterr().out)
    assert set(nodes) == {centre, run_id("train-weather-boosting")}

    assert main(["lineage", "run:train-weather-forest", "--store", store, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    expected = neighbourhood(example_graph, run_id("train-weather-forest"), 100, "both")
    assert {n["id"] for n in data["nodes"]} == set(expected.nodes)
    assert len(data["edges"]) == len(expected.edges)


def test_cli_lineage_user_errors(tmp_path: Path) -> None:
    for ref in ("run:no-such-run", "model/no-such-model:v0", "model/weather-classifier:v99"):
        out = subprocess.run(
            [sys.executable, "-m", "sitegen.cli", "lineage", ref, "--store", str(EXAMPLE)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert out.returncode == 1, (ref, out.stderr)
        assert "Traceback" not in out.stderr and out.stderr.strip(), ref


def test_above_the_limit_the_page_is_a_notice_table_and_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example_graph: Graph
) -> None:
    monkeypatch.setattr("sitegen.pages.lineage.FULL_GRAPH_LIMIT", 10)
    build(BuildOptions(EXAMPLE, tmp_path / "site"))
    site = tmp_path / "site"
    page = (site / "lineage/index.html").read_text(encoding="utf-8")
    assert "lg-notice" in page and "would freeze the browser" in page
    assert 'class="lg-root"' not in page and "assets/lineage.js" not in page
    assert not (site / "data/lineage/graph.js").exists()
    assert page.count("<tr") - 1 == len(example_graph.edges)
    assert (site / "lineage/lineage.dot").is_file()
    # version and run pages keep their neighbourhood panel
    html = (site / "artifacts/model/weather-classifier/v2/index.html").read_text(encoding="utf-8")
    assert panel_payload(html)["centre"] == version_id("model/weather-classifier:v2")


def test_many_encoder_writes_what_json_dumps_writes() -> None:
    """The lineage export and node digests encode 40,000 rows with one C encoder; the text
    must stay exactly ``json.dumps``'s (digests and golden exports depend on it)."""
    import json

    from sitegen.rawjson import many_encoder

    values = [
        {"b": 1.5, "a": [1, 'q"é\n\u2028', None, True], "c": {"z": 1e300, "y": -0.0}},
        "<script>\u0000",
        3,
        [],
        {"k": object()},
    ]
    for ascii_only in (True, False):
        encode = many_encoder(ensure_ascii=ascii_only, default=str)
        for value in values:
            expected = json.dumps(value, sort_keys=True, ensure_ascii=ascii_only, default=str)
            assert encode(value) == expected


def test_panel_nodes_encoded_once_give_the_page_the_same_json() -> None:
    """A panel's nodes are spliced in from parts made once per node; the script JSON is
    exactly what encoding the whole payload gives (hostile names, missing details, links
    from two pages, and the same node again after its facts change)."""
    from sitegen.filters import tojson_script
    from sitegen.pages.lineage import graph_payload
    from sitegen.pages.lineage import panel_payload as encoded
    from sitegen.rawjson import RawValues

    hostile = '</script><img src=x onerror=alert(1)> "é\u2028'
    nodes = {
        "v:model/m:v1": Node("v:model/m:v1", "version", "v1", "model", f"model/{hostile}", ""),
        "r:run1": Node("r:run1", "run", hostile, "train", "", "finished"),
        "r:gone": Node("r:gone", "missing-run", "gone", "", "", ""),
    }
    graph = Graph.of(nodes, (Edge("v:model/m:v1", "r:run1"), Edge("r:gone", "v:model/m:v1")))
    for facts in ({"r:run1": {"config": {"lr": 0.1, "x": hostile}}}, {"r:run1": {}}):
        details = RawValues(facts)
        for url in ("artifacts/model/m/v1/index.html", "runs/run1/index.html"):
            plain = graph_payload(facts, graph, url, "r:run1")
            fast = encoded(details, graph, url, "r:run1")
            assert str(tojson_script(fast)) == str(tojson_script(plain))
            assert "</script>" not in str(tojson_script(fast))
