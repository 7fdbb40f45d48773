"""Lineage pages: the project graph (or an entry to it when large), exports, and the
neighbourhood panel data embedded in version and run pages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sitegen.assets import GRAPH_ASSETS
from sitegen.compare import number
from sitegen.lineage import Graph, Node, build_graph, neighbourhood, run_id, version_id
from sitegen.lineage_export import dumps, layout, to_dot, to_json, to_mermaid
from sitegen.model import Project
from sitegen.pages.common import (
    Page,
    SiteInfo,
    base_context,
    data_script,
    rel,
    run_url,
    version_url,
)
from sitegen.rawjson import RawJSON, RawValues, json_string, script_escape

FULL_GRAPH_LIMIT = 5000
EDGE_TABLE_LIMIT = 1000
PANEL_NODE_LIMIT = 300
PANEL_DEPTH = 3
URL = "lineage/index.html"


def node_url(node: Node) -> str | None:
    if node.kind == "version":
        coll, _, label = node.id[2:].rpartition(":")
        return version_url(coll, int(label[1:]))
    if node.kind == "run":
        return run_url(node.id[2:])
    return None


def node_details(project: Project) -> dict[str, dict[str, Any]]:
    """Facts shown when a node is clicked, by node id: digest/created/metrics, or config."""
    details: dict[str, dict[str, Any]] = {}
    for run in project.runs:
        summary = run.record.summary
        details[run_id(run.id)] = {
            "status": run.record.status,
            "started": run.record.started_at,
            "metrics": {
                m.name: summary[m.name]
                for m in project.metrics
                if number(summary.get(m.name)) is not None
            },
            "config": json.loads(
                json.dumps(dict(sorted(run.record.config.items())[:8]), default=str)
            ),
        }
    for c in project.collections:
        for v in c.versions:
            summary = details.get(run_id(v.producer), {}).get("metrics", {}) if v.producer else {}
            details[version_id(v.ref)] = {
                "digest": v.record.digest[:12],
                "created": v.record.created_at,
                "metrics": summary,
            }
    return details


def graph_payload(
    details: Mapping[str, Any], graph: Graph, from_url: str, centre: str | None = None
) -> dict[str, Any]:
    """Nodes with positions, links and click details; a panel (``centre`` set) shows no
    aliases: they move, and one move would otherwise change every page around the version."""
    positions = layout(graph)
    nodes = []
    for node in graph.nodes.values():
        target = node_url(node)
        x, y = positions[node.id]
        nodes.append(
            {
                "id": node.id,
                "kind": node.kind,
                "label": node.label,
                "type": node.type,
                "collection": node.collection,
                "status": node.status,
                "aliases": [] if centre else list(node.aliases),
                "x": x,
                "y": y,
                "href": rel(from_url, target) if target else None,
                "details": details.get(node.id, {}),
            }
        )
    edges = [{"source": e.source, "target": e.target, "broken": e.broken} for e in graph.edges]
    return {"format": 1, "centre": centre, "nodes": nodes, "edges": edges}


def panel_payload(details: RawValues, graph: Graph, from_url: str, centre: str) -> dict[str, Any]:
    """:func:`graph_payload` of a panel, each node pre-encoded (``tojson_script`` splices
    them in): a node is in the panel of every page within three hops of it, and only its
    link and position differ from one page to the next."""
    positions = layout(graph)
    nodes = []
    for node in graph.nodes.values():
        head, tail, script_head, script_tail = _node_parts(node, details)
        target = node_url(node)
        href = _string(rel(from_url, target)) if target else "null"
        x, y = positions[node.id]
        end = f'{x},"y":{y}}}'
        text, script_href = f"{head}{href}{tail}{end}", script_escape(href)
        if script_head is head and script_tail is tail and script_href is href:
            nodes.append(RawJSON(text, text))  # nothing to escape: one string serves both
        else:
            nodes.append(RawJSON(text, f"{script_head}{script_href}{script_tail}{end}"))
    edges = [{"source": e.source, "target": e.target, "broken": e.broken} for e in graph.edges]
    return {"format": 1, "centre": centre, "nodes": nodes, "edges": edges}


_PARTS: dict[str, tuple[Node, RawValues, tuple[str, str, str, str]]] = {}
_PARTS_KEPT = 50_000


def _node_parts(node: Node, details: RawValues) -> tuple[str, str, str, str]:
    """A panel node's JSON before its ``href`` value, and after it up to its ``x`` value
    (the keys sorted, as ``tojson_script`` writes them), then both escaped for a script
    element; made once per process."""
    hit = _PARTS.get(node.id)
    if hit is not None and hit[0] is node and hit[1] is details:
        return hit[2]
    facts = details[node.id].text if node.id in details else "{}"
    head = f'{{"aliases":[],"collection":{_string(node.collection)},"details":{facts},"href":'
    tail = (
        f',"id":{_string(node.id)},"kind":{_string(node.kind)},"label":{_string(node.label)},'
        f'"status":{_string(node.status)},"type":{_string(node.type)},"x":'
    )
    parts = (head, tail, script_escape(head), script_escape(tail))
    if len(_PARTS) >= _PARTS_KEPT:
        _PARTS.clear()
    _PARTS[node.id] = (node, details, parts)
    return parts


def _string(value: Any) -> str:
    return json_string(value) if type(value) is str else json.dumps(value, ensure_ascii=False)


def edge_rows(graph: Graph, from_url: str, limit: int = EDGE_TABLE_LIMIT) -> list[dict[str, Any]]:
    rows = []
    for e in graph.edges[:limit]:
        a, b = graph.nodes[e.source], graph.nodes[e.target]
        ua, ub = node_url(a), node_url(b)
        rows.append(
            {
                "source": a.label,
                "source_kind": a.kind,
                "source_href": rel(from_url, ua) if ua else None,
                "target": b.label,
                "target_kind": b.kind,
                "target_href": rel(from_url, ub) if ub else None,
                "broken": e.broken,
                "relation": "used by" if a.kind.endswith("version") else "produced",
            }
        )
    return rows


def lineage_urls(graph: Graph) -> tuple[str, ...]:
    """What :func:`lineage_pages` writes, known before building it."""
    urls = (URL, "lineage/lineage.mmd", "lineage/lineage.dot", "lineage/lineage.json")
    return (*urls, "data/lineage/graph.js") if len(graph.nodes) <= FULL_GRAPH_LIMIT else urls


def lineage_pages(site: SiteInfo, graph: Graph, details: Mapping[str, Any]) -> list[Page]:
    ctx = base_context(site, URL, "lineage", "Lineage", [("Overview", "index.html")], GRAPH_ASSETS)
    full = len(graph.nodes) <= FULL_GRAPH_LIMIT
    ctx["graph"] = {
        "nodes_total": len(graph.nodes),
        "edges_total": len(graph.edges),
        "full": full,
        "notice": None
        if full
        else (
            f"This project has {len(graph.nodes)} nodes; drawing more than {FULL_GRAPH_LIMIT} "
            "would freeze the browser. Open a version or run page for its neighbourhood, "
            "or use the exports below."
        ),
        "data_src": rel(URL, "data/lineage/graph.js") if full else None,
        "types": sorted({n.type for n in graph.nodes.values() if n.kind.endswith("version")}),
        "job_types": sorted({n.type for n in graph.nodes.values() if n.kind.endswith("run")}),
    }
    ctx["edges"] = edge_rows(graph, URL)
    ctx["edges_truncated"] = len(graph.edges) > EDGE_TABLE_LIMIT
    ctx["exports"] = {"mermaid": "lineage.mmd", "dot": "lineage.dot", "json": "lineage.json"}
    pages = [
        Page(URL, "lineage.html", ctx),
        Page("lineage/lineage.mmd", None, {}, to_mermaid(graph).encode()),
        Page("lineage/lineage.dot", None, {}, to_dot(graph).encode()),
        Page("lineage/lineage.json", None, {}, dumps(to_json(graph)).encode()),
    ]
    if full:
        payload = graph_payload(details, graph, URL)
        pages.append(data_script("data/lineage/graph.js", "window.SITEGEN_LINEAGE", payload))
    return pages


def panel_graph(graph: Graph, centre: str) -> tuple[Graph, int]:
    """The neighbourhood a page's panel shows, and its depth (less around hubs)."""
    depth = PANEL_DEPTH
    sub = neighbourhood(graph, centre, depth, "both")
    while depth > 1 and len(sub.nodes) > PANEL_NODE_LIMIT:  # a hub: keep its page light
        depth -= 1
        sub = neighbourhood(graph, centre, depth, "both")
    return sub, depth


def panel(details: RawValues, graph: Graph, url: str, centre: str) -> dict[str, Any]:
    """Neighbourhood data for a version or run page: depth and direction chosen in the browser."""
    sub, depth = panel_graph(graph, centre)
    return {
        "payload": panel_payload(details, sub, url, centre),
        "edges": edge_rows(sub, url, 500),
        "max_depth": depth,
        "lineage_href": rel(url, URL),
    }


__all__ = ["build_graph", "lineage_pages", "lineage_urls", "node_details", "panel", "panel_graph"]
