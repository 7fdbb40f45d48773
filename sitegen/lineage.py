"""The lineage graph: artifact versions and runs, version → run (used), run → version (produced).

Pure functions: closures, k-hop neighbourhoods, cycle detection, a deterministic layered
layout (left to right) and exports (Mermaid, Graphviz DOT, JSON).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from sitegen.graphs import strongly_connected_cycles
from sitegen.model import Project

Direction = Literal["up", "down", "both"]


class Node(NamedTuple):
    id: str
    kind: str  # "version" | "run" | "missing-version" | "missing-run"
    label: str
    type: str  # artifact type, or the run's job type
    collection: str
    status: str
    aliases: tuple[str, ...] = ()


class Edge(NamedTuple):
    source: str
    target: str
    broken: bool = False


@dataclass(frozen=True)
class Graph:
    """Nodes and edges plus adjacency computed once (graphs are immutable)."""

    nodes: Mapping[str, Node]
    edges: tuple[Edge, ...]
    succ: Mapping[str, list[str]] = field(default_factory=dict)
    pred: Mapping[str, list[str]] = field(default_factory=dict)
    out_edges: Mapping[str, list[Edge]] = field(default_factory=dict)

    @classmethod
    def of(cls, nodes: Mapping[str, Node], edges: tuple[Edge, ...]) -> Graph:
        out: dict[str, list[Edge]] = {}
        for e in edges:
            out.setdefault(e.source, []).append(e)
        return cls(
            nodes, edges, _adjacency(edges, forward=True), _adjacency(edges, forward=False), out
        )

    def successors(self) -> Mapping[str, list[str]]:
        return self.succ

    def predecessors(self) -> Mapping[str, list[str]]:
        return self.pred


def _adjacency(edges: Iterable[Edge], forward: bool) -> dict[str, list[str]]:
    adj: dict[str, list[str]] = {}
    for e in edges:
        a, b = (e.source, e.target) if forward else (e.target, e.source)
        adj.setdefault(a, []).append(b)
    return {k: sorted(set(v)) for k, v in adj.items()}


def version_id(ref: str) -> str:
    return f"v:{ref}"


def run_id(run: str) -> str:
    return f"r:{run}"


def build_graph(project: Project) -> Graph:
    nodes: dict[str, Node] = {}
    for c in project.collections:
        ref, name, type_ = c.ref, c.name, c.type
        for v in c.versions:
            record = v.record
            vid = version_id(record.ref)
            nodes[vid] = Node(
                vid, "version", f"{name}:v{record.version}", type_, ref, "", v.aliases
            )
    for r in project.runs:
        rec = r.record
        rid = run_id(rec.id)
        nodes[rid] = Node(rid, "run", rec.name, rec.job_type or "run", "", rec.status)
    edges: set[Edge] = set()
    for r in project.runs:
        rid = run_id(r.record.id)
        for vid in map(version_id, r.record.inputs):
            edges.add(Edge(vid, rid, vid not in nodes))
        for vid in map(version_id, r.record.outputs):
            edges.add(Edge(rid, vid, vid not in nodes))
    for c in project.collections:
        for v in c.versions:
            if v.record.run:
                rid = run_id(v.record.run)
                edges.add(Edge(rid, version_id(v.record.ref), rid not in nodes))
    for e in edges:
        for end in (e.source, e.target):
            if end not in nodes:
                kind = "missing-run" if end.startswith("r:") else "missing-version"
                nodes[end] = Node(end, kind, end[2:], "missing", "", "missing")
    return Graph.of(dict(sorted(nodes.items())), tuple(sorted(edges)))


def closure(graph: Graph, start: str, direction: Literal["up", "down"]) -> frozenset[str]:
    """Every node reachable upstream or downstream of ``start`` (excluding it)."""
    adj = graph.predecessors() if direction == "up" else graph.successors()
    return frozenset(_bfs(adj, [start], None)) - {start}


def _bfs(adj: Mapping[str, list[str]], starts: list[str], depth: int | None) -> dict[str, int]:
    seen = {s: 0 for s in starts}
    queue = deque(starts)
    while queue:
        node = queue.popleft()
        if depth is not None and seen[node] >= depth:
            continue
        for nxt in adj.get(node, ()):
            if nxt not in seen:
                seen[nxt] = seen[node] + 1
                queue.append(nxt)
    return seen


def neighbourhood(graph: Graph, start: str, depth: int, direction: Direction = "both") -> Graph:
    """The subgraph within ``depth`` hops of ``start`` following edges up, down or both."""
    keep: set[str] = {start}
    if direction in ("up", "both"):
        keep |= set(_bfs(graph.predecessors(), [start], depth))
    if direction in ("down", "both"):
        keep |= set(_bfs(graph.successors(), [start], depth))
    return subgraph(graph, keep)


def subgraph(graph: Graph, keep: Iterable[str]) -> Graph:
    wanted = sorted(set(keep) & graph.nodes.keys())
    nodes = {k: graph.nodes[k] for k in wanted}
    edges = [e for k in wanted for e in graph.out_edges.get(k, ()) if e.target in nodes]
    return Graph.of(nodes, tuple(sorted(edges, key=lambda e: (e.source, e.target))))


def find_cycles(graph: Graph) -> list[list[str]]:
    """Node sets that lie on a cycle (a hand-edited or imported store), sorted."""
    return strongly_connected_cycles(list(graph.nodes), graph.successors())
