"""Input keys of lineage panels: an unchanged key must mean an unchanged panel."""

from __future__ import annotations

import json
import random
from itertools import pairwise

import pytest

from sitegen.lineage import Edge, Graph, Node
from sitegen.pages.keys import lineage_digests
from sitegen.pages.lineage import PANEL_DEPTH, panel


def neighbourhood_keys(graph: Graph, nodes: dict[str, str], depth: int) -> dict[str, str]:
    return lineage_digests(graph, nodes, depth)[0]


def chain(
    length: int,
    status: dict[int, str] | None = None,
    aliases: dict[int, tuple[str, ...]] | None = None,
) -> Graph:
    """v0 -> r1 -> v2 -> r3 -> ... alternating versions and runs."""
    status, aliases = status or {}, aliases or {}
    nodes = {}
    for i in range(length):
        kind = "version" if i % 2 == 0 else "run"
        facts = (f"node {i}", "t", "c", status.get(i, ""), aliases.get(i, ()))
        nodes[f"n{i}"] = Node(f"n{i}", kind, *facts)
    edges = tuple(Edge(f"n{i}", f"n{i + 1}") for i in range(length - 1))
    return Graph.of(nodes, edges)


def test_a_change_three_hops_away_changes_the_key_and_four_hops_away_does_not() -> None:
    before = neighbourhood_keys(chain(8), {}, PANEL_DEPTH)
    near = neighbourhood_keys(chain(8, {3: "failed"}), {}, PANEL_DEPTH)
    far = neighbourhood_keys(chain(8, {4: "failed"}), {}, PANEL_DEPTH)
    assert near["n0"] != before["n0"]
    assert far["n0"] == before["n0"]
    assert far["n7"] != before["n7"]  # three hops upstream of n7
    longer = neighbourhood_keys(chain(9), {}, PANEL_DEPTH)  # the leaf n7 gets a successor
    assert [longer[f"n{i}"] != before[f"n{i}"] for i in range(3, 8)] == [False] + [True] * 4


def test_an_alias_move_changes_no_panel_and_no_key() -> None:
    """Panels show no aliases, so moving `latest` re-renders only the pages that show it."""

    def graph(latest: int) -> Graph:
        ids = [f"v:model/m:v{i}" if i % 2 == 0 else f"r:run{i}" for i in range(8)]
        nodes = {
            n: Node(n, "run" if i % 2 else "version", n, "t", "c", "", ("latest",) * (i == latest))
            for i, n in enumerate(ids)
        }
        return Graph.of(nodes, tuple(Edge(a, b) for a, b in pairwise(ids)))

    before, after = graph(4), graph(6)
    assert neighbourhood_keys(before, {}, PANEL_DEPTH) == neighbourhood_keys(after, {}, PANEL_DEPTH)
    for node in before.nodes:
        shown = panel({}, before, "x.html", node)
        assert shown == panel({}, after, "x.html", node)
        assert all(json.loads(n.text)["aliases"] == [] for n in shown["payload"]["nodes"])


def test_node_facts_are_part_of_the_key() -> None:
    graph = chain(4)
    before = neighbourhood_keys(graph, {"n2": "a"}, PANEL_DEPTH)
    after = neighbourhood_keys(graph, {"n2": "b"}, PANEL_DEPTH)
    assert before["n0"] != after["n0"]


def random_graph(rng: random.Random, size: int) -> Graph:
    nodes = {}
    for i in range(size):
        node_id = f"v:model/m:v{i}" if i % 2 else f"r:run{i}"
        nodes[node_id] = Node(node_id, "version" if i % 2 else "run", f"n{i}", "t", "c", "")
    ids = sorted(nodes)
    edges = {Edge(a, b) for a, b in (rng.sample(ids, 2) for _ in range(size + size // 2))}
    return Graph.of(nodes, tuple(sorted(edges, key=lambda e: (e.source, e.target))))


def mutate(rng: random.Random, graph: Graph) -> Graph:
    nodes, edges = dict(graph.nodes), set(graph.edges)
    choice = rng.randrange(3)
    if choice == 0:
        node = nodes[rng.choice(sorted(nodes))]
        nodes[node.id] = Node(node.id, node.kind, node.label, node.type, node.collection, "failed")
    elif choice == 1 and edges:
        edges.remove(rng.choice(sorted(edges, key=repr)))
    else:
        edges.add(Edge(*rng.sample(sorted(nodes), 2)))
    return Graph.of(nodes, tuple(sorted(edges, key=lambda e: (e.source, e.target))))


@pytest.mark.parametrize("seed", range(40))
def test_an_unchanged_key_means_an_unchanged_panel(seed: int) -> None:
    rng = random.Random(seed)
    before = random_graph(rng, rng.randrange(6, 30))
    after = mutate(rng, before)
    old, new = (neighbourhood_keys(g, {}, PANEL_DEPTH) for g in (before, after))
    unchanged = [n for n in before.nodes if old[n] == new[n]]
    for node in unchanged:
        assert panel({}, before, "x.html", node) == panel({}, after, "x.html", node), node
    if after != before:
        assert len(unchanged) < len(before.nodes), "a change reaches at least its own panel"


def test_a_collection_batch_key_changes_whenever_one_of_its_version_keys_does() -> None:
    """A rebuild keeps a whole collection's version groups when ``versions_key`` is the one
    recorded, so every input of a version group's key must be in it."""
    import dataclasses
    from pathlib import Path

    import sitegen
    from sitegen.config import SiteConfig
    from sitegen.model import build_model
    from sitegen.pages.keys import version_group_key, versions_key

    project = build_model(sitegen.Store(Path("example_project/store")).load(), SiteConfig())
    collection = max(project.collections, key=lambda c: len(c.versions))
    runs = {run.id: f"digest-{run.id}" for run in project.runs}
    hoods = [f"hood-{i}" for i in range(len(collection.versions))]

    def keys(c: object, r: dict[str, str], h: list[str], info: str) -> tuple[str, list[str]]:
        each = [version_group_key("b", c, i, r, h[i], info) for i in range(len(h))]  # type: ignore[arg-type]
        return versions_key("b", c, r, h, info), each  # type: ignore[arg-type]

    def with_version(index: int, **change: object) -> object:
        versions = list(collection.versions)
        versions[index] = versions[index]._replace(**change)
        return dataclasses.replace(collection, versions=tuple(versions))

    last = len(collection.versions) - 1
    used = next(r for v in collection.versions for r in (v.producer, *v.consumers) if r)
    variants = [
        (collection, {**runs, used: "changed"}, hoods, "i"),
        (collection, runs, [*hoods[:-1], "moved"], "i"),
        (collection, runs, hoods, "another description"),
        (with_version(0, aliases=("golden",)), runs, hoods, "i"),
        (with_version(last, consumers=("someone-new",)), runs, hoods, "i"),
        (with_version(last, size=1), runs, hoods, "i"),
    ]
    batch, each = keys(collection, runs, hoods, "i")
    assert keys(collection, dict(runs), list(hoods), "i") == (batch, each)
    for variant in variants:
        changed_batch, changed_each = keys(*variant)
        assert changed_each != each, "the variant changes some version's key"
        assert changed_batch != batch


def test_the_whole_graph_key_covers_what_the_lineage_pages_show() -> None:
    """The lineage page and exports show every node with its aliases, every edge in order
    and each node's panel facts: changing any of them changes the key; nothing else does."""

    def whole(graph: Graph, nodes: dict[str, str] | None = None) -> str:
        return lineage_digests(graph, nodes or {}, PANEL_DEPTH)[1]

    base = chain(6)
    reordered = Graph.of(base.nodes, tuple(reversed(base.edges)))
    extra = Graph.of(base.nodes, (*base.edges, Edge("n0", "n5")))
    assert whole(chain(6)) == whole(base)
    changed = [
        whole(chain(6, aliases={2: ("latest",)})),
        whole(chain(6, status={5: "failed"})),
        whole(chain(7)),
        whole(reordered),
        whole(extra),
        whole(base, {"n3": "other facts"}),
    ]
    assert whole(base) not in changed and len(set(changed)) == len(changed)
