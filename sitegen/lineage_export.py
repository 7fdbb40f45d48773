"""Lineage layout (deterministic, layered left to right) and exports: Mermaid, DOT, JSON."""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Mapping
from typing import Any

from sitegen.lineage import Graph
from sitegen.rawjson import many_encoder

LAYER_GAP = 240
ROW_GAP = 64
SWEEPS = 4


def layers(graph: Graph) -> dict[str, int]:
    """Longest-path layering (Kahn's order, a heap keeps it deterministic and O(n log n));
    nodes on cycles are placed after their placed predecessors."""
    preds, succ = graph.predecessors(), graph.successors()
    indegree = {n: len(preds.get(n, [])) for n in graph.nodes}
    layer = dict.fromkeys(graph.nodes, 0)
    ready = [n for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    pending = iter(sorted(graph.nodes))
    done: set[str] = set()
    while len(done) < len(graph.nodes):
        if not ready:
            heapq.heappush(ready, next(n for n in pending if n not in done))  # break a cycle
        node = heapq.heappop(ready)
        if node in done:
            continue
        done.add(node)
        for nxt in succ.get(node, []):
            if nxt in done:
                continue
            layer[nxt] = max(layer[nxt], layer[node] + 1)
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, nxt)
    return layer


def layout(graph: Graph) -> dict[str, tuple[int, int]]:
    """x by layer, y by a barycentre ordering within the layer (a few sweeps)."""
    layer = layers(graph)
    columns: dict[int, list[str]] = {}
    for node in sorted(
        graph.nodes, key=lambda n: (graph.nodes[n].collection, graph.nodes[n].label, n)
    ):
        columns.setdefault(layer[node], []).append(node)
    preds, succ = graph.predecessors(), graph.successors()
    position = {n: i for col in columns.values() for i, n in enumerate(col)}
    unchanged = 0  # sweeps in a row that moved nothing: two (one each way) is a fixed point
    for sweep in range(SWEEPS):
        neighbours = preds if sweep % 2 == 0 else succ
        moved = False
        for key in sorted(columns, reverse=sweep % 2 == 1):
            if len(columns[key]) < 2:
                continue
            ordered = _barycentre_order(columns[key], neighbours, position)
            if ordered != columns[key]:
                columns[key], moved = ordered, True
                position.update({n: i for i, n in enumerate(ordered)})
        unchanged = 0 if moved else unchanged + 1
        if unchanged == 2:
            break
    return {
        n: (key * LAYER_GAP, i * ROW_GAP) for key, col in columns.items() for i, n in enumerate(col)
    }


def _barycentre_order(
    column: list[str], neighbours: Mapping[str, list[str]], position: dict[str, int]
) -> list[str]:
    def centre(item: tuple[int, str]) -> tuple[float, int]:
        index, node = item
        near = [position[p] for p in neighbours.get(node, []) if p in position]
        return (sum(near) / len(near) if near else float(index), index)

    return [node for _, node in sorted(enumerate(column), key=centre)]


def to_json(graph: Graph) -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {
                "id": n.id,
                "kind": n.kind,
                "label": n.label,
                "type": n.type,
                "collection": n.collection,
                "status": n.status,
                "aliases": list(n.aliases),
            }
            for n in graph.nodes.values()
        ],
        "edges": [
            {"source": e.source, "target": e.target, "broken": e.broken} for e in graph.edges
        ],
    }


def _mermaid_text(text: str) -> str:
    return re.sub(r'["<>#]', lambda m: f"#{ord(m.group())};", text)


def to_mermaid(graph: Graph) -> str:
    ids = {n: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for key, node in graph.nodes.items():
        label = _mermaid_text(
            node.label + (f" ({', '.join(node.aliases)})" if node.aliases else "")
        )
        shape = f'(["{label}"])' if node.kind.endswith("version") else f'["{label}"]'
        lines.append(f"  {ids[key]}{shape}")
        lines.append(f"  class {ids[key]} {node.kind.replace('-', '_')}")
    for e in graph.edges:
        arrow = "-.->|missing|" if e.broken else "-->"
        lines.append(f"  {ids[e.source]} {arrow} {ids[e.target]}")
    lines.append("  classDef missing_version stroke-dasharray: 5 5")
    lines.append("  classDef missing_run stroke-dasharray: 5 5")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: Graph) -> str:
    lines = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for key, node in graph.nodes.items():
        shape = "box" if node.kind.endswith("run") else "ellipse"
        style = ', style="dashed"' if node.kind.startswith("missing") else ""
        label = node.label + (f" ({', '.join(node.aliases)})" if node.aliases else "")
        lines.append(f"  {_dot_quote(key)} [label={_dot_quote(label)}, shape={shape}{style}];")
    for e in graph.edges:
        style = ' [style="dashed", color="red"]' if e.broken else ""
        lines.append(f"  {_dot_quote(e.source)} -> {_dot_quote(e.target)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dumps(value: Mapping[str, Any]) -> str:
    """Sorted keys, one list item per line: readable in a diff, and written by the C encoder
    (indented ``json.dumps`` runs in Python: seconds for a 10,000-version graph)."""
    fields = []
    for key, item in sorted(value.items()):
        name = json.dumps(key, ensure_ascii=False)
        if isinstance(item, list) and item:
            rows = ",\n".join(f"  {_compact(row)}" for row in item)
            fields.append(f" {name}: [\n{rows}\n ]")
        else:
            fields.append(f" {name}: {_compact(item)}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


# json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
_compact = many_encoder(ensure_ascii=False)
