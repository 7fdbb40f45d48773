"""What changed between two stores, for pull-request review (``sitegen diff``).

Pure: ``diff_projects(base, head, config, options)`` takes two models and returns one
JSON-able report (``format`` 1, documented in ``docs/diff.md``): new collections, new
versions with metrics/config/files against their baseline, alias moves (replayed from
both logs), new lineage edges, new runs, and regression gates. It reuses the comparison
primitives of :mod:`sitegen.compare`, so the numbers match the site's comparison pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sitegen.compare import file_changes, keyed_rows, metric_rows
from sitegen.config import SiteConfig
from sitegen.gates import Gate
from sitegen.lineage import Graph, build_graph
from sitegen.lineage_export import to_mermaid
from sitegen.model import Collection, Project, Run, Version

DIFF_FORMAT = 1
MERMAID_MAX_EDGES = 60


@dataclass(frozen=True)
class DiffOptions:
    baseline_alias: str = "production"
    site_url: str | None = None
    gates: tuple[Gate, ...] = ()
    base_label: str = "base"
    head_label: str = "head"


# --- site links (the layout of docs/site.md; checked against sitegen.pages in tests) ------


def collection_page(coll: str) -> str:
    return f"artifacts/{coll}/index.html"


def version_page(coll: str, version: int) -> str:
    return f"artifacts/{coll}/v{version}/index.html"


def run_page(run_id: str) -> str:
    return f"runs/{run_id}/index.html"


def pair_page(coll: str, a: int, b: int) -> str:
    return f"artifacts/{coll}/compare/v{a}..v{b}.html"


def any_compare_page(coll: str, versions: tuple[int, ...]) -> str:
    return f"artifacts/{coll}/compare.html#v={','.join(str(v) for v in versions)}"


class _Links:
    def __init__(self, site_url: str | None) -> None:
        self.root = site_url.rstrip("/") + "/" if site_url else None

    def __call__(self, page: str | None) -> str | None:
        return None if self.root is None or page is None else self.root + page


# --- the pieces ---------------------------------------------------------------------------


def _versions(project: Project) -> dict[tuple[str, int], Version]:
    return {(c.ref, v.record.version): v for c in project.collections for v in c.versions}


def side_facts(project: Project, label: str) -> dict[str, Any]:
    return {
        "source": label,
        "project": project.name,
        "collections": len(project.collections),
        "versions": sum(len(c.versions) for c in project.collections),
        "runs": len(project.runs),
        "log_head": project.log_head,
        "errors": sum(1 for p in project.problems if p.severity == "error"),
        "warnings": sum(1 for p in project.problems if p.severity == "warning"),
    }


def new_collections(base: Project, head: Project, link: _Links) -> list[dict[str, Any]]:
    known = {c.ref for c in base.collections}
    return [
        {
            "collection": c.ref,
            "type": c.type,
            "name": c.name,
            "versions": len(c.versions),
            "url": link(collection_page(c.ref)),
        }
        for c in head.collections
        if c.ref not in known
    ]


def alias_moves(base: Project, head: Project, link: _Links) -> list[dict[str, Any]]:
    """Every alias whose target differs between the two replayed logs."""
    before = {(c.ref, a): n for c in base.collections for a, n in c.aliases.items()}
    after = {(c.ref, a): n for c in head.collections for a, n in c.aliases.items()}
    moves = []
    for coll, alias in sorted(set(before) | set(after)):
        old, new = before.get((coll, alias)), after.get((coll, alias))
        if old == new:
            continue
        action = "set" if old is None else "removed" if new is None else "moved"
        moves.append(
            {
                "collection": coll,
                "alias": alias,
                "action": action,
                "from": old,
                "to": new,
                "from_url": link(version_page(coll, old)) if old is not None else None,
                "to_url": link(version_page(coll, new)) if new is not None else None,
            }
        )
    return moves


def conflicts(base: Project, head: Project) -> tuple[list[dict[str, Any]], list[str]]:
    """Same version number with different content (diverged branches), and vanished versions."""
    old, new = _versions(base), _versions(head)
    clashes = [
        {
            "collection": coll,
            "version": num,
            "base_digest": old[(coll, num)].record.digest,
            "head_digest": new[(coll, num)].record.digest,
        }
        for coll, num in sorted(set(old) & set(new))
        if old[(coll, num)].record.digest != new[(coll, num)].record.digest
    ]
    missing = [f"{coll}:v{num}" for coll, num in sorted(set(old) - set(new))]
    return clashes, missing


def new_runs(base: Project, head: Project, link: _Links) -> list[dict[str, Any]]:
    known = {r.id for r in base.runs}
    fresh = sorted((r for r in head.runs if r.id not in known), key=lambda r: r.id)
    return [
        {
            "id": r.id,
            "name": r.record.name,
            "job_type": r.record.job_type,
            "status": r.record.status,
            "url": link(run_page(r.id)),
        }
        for r in fresh
    ]


# --- one new version against its baseline -------------------------------------------------


class _Index:
    """Lookups over both sides, computed once (a head may bring thousands of versions)."""

    def __init__(self, base: Project, head: Project, options: DiffOptions) -> None:
        self.base, self.head, self.options = base, head, options
        self.link = _Links(options.site_url)
        self.old = _versions(base)
        self.new = _versions(head)
        self.runs = {r.id: r for r in base.runs} | {r.id: r for r in head.runs}
        self.base_aliases = {c.ref: dict(c.aliases) for c in base.collections}

    def run(self, run_id: str | None) -> Run | None:
        return self.runs.get(run_id) if run_id else None

    def run_facts(self, run_id: str | None) -> dict[str, Any] | None:
        run = self.run(run_id)
        if run is None:
            return None
        return {
            "id": run.id,
            "name": run.record.name,
            "status": run.record.status,
            "url": self.link(run_page(run.id)),
        }


@dataclass(frozen=True)
class _Baseline:
    version: Version
    reason: str
    adjacent: bool


def find_baseline(index: _Index, coll: Collection, position: int) -> _Baseline | None:
    """The version the baseline alias points to in BASE, else the previous version."""
    alias = index.options.baseline_alias
    target = index.base_aliases.get(coll.ref, {}).get(alias) if alias else None
    if target is not None:
        found = index.new.get((coll.ref, target)) or index.old.get((coll.ref, target))
        if found is not None:
            previous = coll.versions[position - 1] if position > 0 else None
            return _Baseline(found, f"alias {alias}", found is previous)
    if position == 0:
        return None
    return _Baseline(coll.versions[position - 1], "previous version", True)


def metric_changes(
    baseline: Mapping[str, Any] | None, summary: Mapping[str, Any] | None, config: SiteConfig
) -> list[dict[str, Any]]:
    """One row per numeric summary metric: values, deltas and a direction-aware mark."""
    rows = []
    for row in metric_rows([baseline or {}, summary or {}], 0, config):
        if row["name"].startswith("_"):
            continue
        old, new = row["values"]
        delta = row["deltas"][1]
        mark = delta["better"] if delta is not None else "new" if old is None else "removed"
        rows.append(
            {
                "name": row["name"],
                "direction": row["direction"],
                "base": old,
                "head": new,
                "abs": delta["abs"] if delta else None,
                "pct": delta["pct"] if delta else None,
                "mark": mark,
                "gates": [],
            }
        )
    return rows


def config_changes(
    baseline: Mapping[str, Any] | None, config: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    rows = keyed_rows([dict(baseline or {}), dict(config or {})], 0)
    return [
        {
            "key": r["key"],
            "base": r["cells"][0]["value"],
            "head": r["cells"][1]["value"],
            "state": r["cells"][1]["state"],
        }
        for r in rows
        if r["differs"]
    ]


def version_change(
    index: _Index, coll: Collection, position: int, config: SiteConfig
) -> dict[str, Any]:
    version = coll.versions[position]
    number = version.record.version
    link = index.link
    run = index.run(version.producer)
    baseline = find_baseline(index, coll, position)
    old_run = index.run(baseline.version.producer) if baseline else None
    return {
        "ref": version.ref,
        "collection": coll.ref,
        "version": number,
        "url": link(version_page(coll.ref, number)),
        "aliases": list(version.aliases),
        "digest": version.record.digest,
        "created_at": version.record.created_at,
        "run": index.run_facts(version.producer),
        "baseline": _baseline_facts(index, coll, baseline),
        "compare_url": link(_compare_page(coll, baseline, number)),
        "metrics": metric_changes(
            old_run.record.summary if old_run else None,
            run.record.summary if run else None,
            config,
        ),
        "config": config_changes(
            old_run.record.config if old_run else None, run.record.config if run else None
        ),
        "files": _file_summary(
            file_changes(baseline.version.record.files if baseline else (), version.record.files)
        ),
    }


def _baseline_facts(
    index: _Index, coll: Collection, baseline: _Baseline | None
) -> dict[str, Any] | None:
    if baseline is None:
        return None
    number = baseline.version.record.version
    return {
        "ref": baseline.version.ref,
        "version": number,
        "reason": baseline.reason,
        "url": index.link(version_page(coll.ref, number)),
        "run": index.run_facts(baseline.version.producer),
    }


def _compare_page(coll: Collection, baseline: _Baseline | None, number: int) -> str | None:
    if baseline is None:
        return None
    old = baseline.version.record.version
    if baseline.adjacent:
        return pair_page(coll.ref, old, number)
    return any_compare_page(coll.ref, (old, number))


def _file_summary(changes: Mapping[str, Any]) -> dict[str, Any]:
    strip = ("path", "size")
    return {
        "added": [{k: f[k] for k in strip} for f in changes["added"]],
        "removed": [{k: f[k] for k in strip} for f in changes["removed"]],
        "modified": [
            {"path": f["path"], "old_size": f["old_size"], "new_size": f["new_size"]}
            for f in changes["modified"]
        ],
        "renamed": [{"from": r["from"], "to": r["to"]} for r in changes["renamed"]],
        "unchanged": len(changes["unchanged"]),
        "size_delta": changes["size_delta"],
    }


# --- lineage -------------------------------------------------------------------------------


def _node_page(graph: Graph, node_id: str) -> str | None:
    node = graph.nodes.get(node_id)
    if node is None or node.kind.startswith("missing"):
        return None
    if node.kind == "run":
        return run_page(node_id[2:])
    coll, _, label = node_id[2:].rpartition(":")
    return version_page(coll, int(label[1:]))


def new_edges(base: Project, head: Project, link: _Links) -> dict[str, Any]:
    """Edges of HEAD's lineage graph that BASE does not have, and a Mermaid drawing of them."""
    old = {(e.source, e.target) for e in build_graph(base).edges}
    graph = build_graph(head)
    edges = tuple(e for e in graph.edges if (e.source, e.target) not in old)
    shown = edges[:MERMAID_MAX_EDGES]
    ends = {n for e in shown for n in (e.source, e.target)}
    drawing = Graph.of({k: n for k, n in graph.nodes.items() if k in ends}, shown)
    return {
        "edges": [
            {
                "source": e.source,
                "target": e.target,
                "source_label": _label(graph, e.source),
                "target_label": _label(graph, e.target),
                "source_url": link(_node_page(graph, e.source)),
                "target_url": link(_node_page(graph, e.target)),
                "broken": e.broken,
            }
            for e in edges
        ],
        "mermaid": to_mermaid(drawing) if shown else "",
        "mermaid_edges": len(shown),
    }


def _label(graph: Graph, node_id: str) -> str:
    """A version's ref, ``run NAME`` for a run, the bare id for a missing node."""
    node = graph.nodes.get(node_id)
    if node is not None and node.kind == "run":
        return f"run {node.label}"
    return node_id[2:]


# --- gates ---------------------------------------------------------------------------------


def apply_gates(versions: list[dict[str, Any]], gates: tuple[Gate, ...]) -> list[dict[str, Any]]:
    """Mark tripping metric rows (``row["gates"]``) and return one result per gate."""
    results = []
    for gate in gates:
        tripped, checked = [], 0
        for change in versions:
            for row in change["metrics"]:
                if not gate.matches(row["name"]):
                    continue
                verdict = gate.trips(row["abs"], row["pct"])
                checked += verdict is not None
                if verdict:
                    row["gates"].append(gate.text)
                    tripped.append(
                        {
                            "ref": change["ref"],
                            "metric": row["name"],
                            "abs": row["abs"],
                            "pct": row["pct"],
                        }
                    )
        results.append(
            {
                "expression": gate.text,
                "metric": gate.metric,
                "op": gate.op,
                "threshold": gate.threshold,
                "relative": gate.relative,
                "checked": checked,
                "tripped": tripped,
            }
        )
    return results


# --- the report ------------------------------------------------------------------------------


def diff_projects(
    base: Project, head: Project, config: SiteConfig, options: DiffOptions
) -> dict[str, Any]:
    index = _Index(base, head, options)
    link = index.link
    versions = [
        version_change(index, coll, position, config)
        for coll in head.collections
        for position, v in enumerate(coll.versions)
        if (coll.ref, v.record.version) not in index.old
    ]
    gates = apply_gates(versions, options.gates)
    clashes, missing = conflicts(base, head)
    report: dict[str, Any] = {
        "format": DIFF_FORMAT,
        "base": side_facts(base, options.base_label),
        "head": side_facts(head, options.head_label),
        "baseline_alias": options.baseline_alias,
        "site_url": link.root,
        "new_collections": new_collections(base, head, link),
        "new_versions": versions,
        "alias_moves": alias_moves(base, head, link),
        "new_runs": new_runs(base, head, link),
        "lineage": new_edges(base, head, link),
        "conflicts": clashes,
        "missing_versions": missing,
        "gates": gates,
    }
    report["summary"] = summarise(report)
    return report


def summarise(report: Mapping[str, Any]) -> dict[str, Any]:
    rows = [row for v in report["new_versions"] for row in v["metrics"]]
    counts = {
        "new_collections": len(report["new_collections"]),
        "new_versions": len(report["new_versions"]),
        "alias_moves": len(report["alias_moves"]),
        "new_runs": len(report["new_runs"]),
        "new_edges": len(report["lineage"]["edges"]),
        "conflicts": len(report["conflicts"]),
        "missing_versions": len(report["missing_versions"]),
    }
    return {
        **counts,
        "changed": any(counts.values()),
        "regressions": sum(1 for r in rows if r["mark"] == "worse"),
        "improvements": sum(1 for r in rows if r["mark"] == "better"),
        "gates_tripped": sum(1 for g in report["gates"] if g["tripped"]),
        "tripped": any(g["tripped"] for g in report["gates"]),
    }
