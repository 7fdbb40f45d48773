"""The audit page: event timeline, alias history, integrity, reproducibility, provenance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sitegen.model import Collection, Project, Version
from sitegen.pages.collection import alias_history
from sitegen.pages.common import (
    Page,
    SiteInfo,
    base_context,
    collection_url,
    flatten,
    rel,
    run_url,
    version_url,
)
from sitegen.store.events import Event
from sitegen.verify import VerifyReport

URL = "audit/index.html"
EVENTS_SHOWN = 2000
CONFIG_ROWS = 30


def event_summary(event: Event) -> str:
    d = event.data
    coll, version = d.get("collection", ""), d.get("version")
    match event.type:
        case "version.created":
            return f"{coll}:v{version} created (digest {str(d.get('digest', ''))[:12]})"
        case "alias.set":
            return f"{coll}: {d.get('alias')} → v{version}"
        case "alias.removed":
            return f"{coll}: {d.get('alias')} removed"
        case "run.started":
            return f"run {d.get('run_id')} started ({d.get('job_type') or 'no job type'})"
        case "run.finished":
            return f"run {d.get('run_id')} {d.get('status')}"
        case "artifact.used":
            return f"run {d.get('run_id')} used {d.get('ref')}"
        case "store.created":
            return f"store created for project {d.get('project')}"
    return event.type


def event_rows(url: str, events: tuple[Event, ...]) -> list[dict[str, Any]]:
    rows = []
    for ev in reversed(events[-EVENTS_SHOWN:]):
        actor = ev.actor
        who = f"{actor.get('user', '')}@{actor.get('host', '')}" + (
            f" (run {actor['run']})" if actor.get("run") else ""
        )
        coll, version = ev.data.get("collection"), ev.data.get("version")
        href = (
            rel(url, version_url(str(coll), version)) if isinstance(version, int) and coll else None
        )
        rows.append(
            {
                "seq": ev.seq,
                "time": ev.time,
                "type": ev.type,
                "summary": event_summary(ev),
                "actor": who,
                "hash": ev.hash,
                "prev": ev.prev or "",
                "href": href,
            }
        )
    return rows


def collection_audit_url(ref: str) -> str:
    return f"audit/{ref}.html"


def reproducibility(url: str, project: Project, collection: Collection) -> list[dict[str, Any]]:
    """For each version of a model collection: the run, its commit, config, exact inputs."""
    if collection.type != "model":
        return []
    return [_reproducibility_row(url, project, collection, v) for v in collection.versions]


def _reproducibility_row(
    url: str, project: Project, collection: Collection, v: Version
) -> dict[str, Any]:
    run = project.run(v.producer) if v.producer else None
    inputs = []
    for ref in run.record.inputs if run else ():
        found = project.version(ref)
        inputs.append(
            {
                "ref": ref,
                "digest": found.record.digest if found else None,
                "href": rel(url, version_url(*_split(ref))) if found else None,
            }
        )
    return {
        "ref": v.ref,
        "href": rel(url, version_url(collection.ref, v.record.version)),
        "digest": v.record.digest,
        "run": {
            "id": run.id,
            "href": rel(url, run_url(run.id)),
            "git_commit": str(run.record.git.get("commit", "")),
            "git_dirty": run.record.git.get("dirty"),
        }
        if run
        else None,
        "config": flatten(run.record.config)[:CONFIG_ROWS] if run else [],
        "inputs": inputs,
    }


def _split(ref: str) -> tuple[str, int]:
    coll, _, label = ref.rpartition(":")
    return coll, int(label[1:])


def audit_page(
    site: SiteInfo, project: Project, report: VerifyReport, predicate: Mapping[str, Any]
) -> Page:
    ctx = base_context(site, URL, "audit", "Audit", [("Overview", "index.html")])
    failing = [v for v in report.versions if not v.ok]
    ctx["audit"] = {
        "integrity": {
            "ok": report.ok,
            "versions": len(report.versions),
            "failing": [{"ref": v.ref, "problems": list(v.problems)} for v in failing],
            "objects_checked": report.objects_checked,
            "events": len(project.events),
            "log_head": project.log_head or "",
            "problems": [str(p) for p in report.problems][:200],
        },
        "events": event_rows(URL, project.events),
        "events_total": len(project.events),
        "events_truncated": len(project.events) > EVENTS_SHOWN,
        "collections": [_collection_summary(project, c) for c in project.collections],
        "withheld": list(project.withheld),
        "provenance": flatten(predicate),
    }
    return Page(URL, "audit.html", ctx)


def _collection_summary(project: Project, collection: Collection) -> dict[str, Any]:
    model = collection.type == "model"
    producers = [project.run(v.producer) for v in collection.versions if v.producer and model]
    runs = [run for run in producers if run is not None]
    return {
        "ref": collection.ref,
        "type": collection.type,
        "href": rel(URL, collection_audit_url(collection.ref)),
        "versions": len(collection.versions),
        "alias_changes": len(collection.alias_history),
        "aliases": sorted(collection.aliases),
        "model": model,
        "with_run": len(runs),
        "with_commit": sum(1 for run in runs if str(run.record.git.get("commit", ""))),
        "inputs_missing": sum(
            1 for run in runs if any(project.version(ref) is None for ref in run.record.inputs)
        ),
    }


def collection_audit_page(site: SiteInfo, project: Project, collection: Collection) -> Page:
    """One collection's alias history and, for models, each version's reproducibility."""
    url = collection_audit_url(collection.ref)
    crumbs = [("Overview", "index.html"), ("Audit", URL)]
    ctx = base_context(site, url, "audit", f"Audit: {collection.ref}", crumbs)
    ctx["collection"] = {
        "ref": collection.ref,
        "type": collection.type,
        "href": rel(url, collection_url(collection.ref)),
    }
    ctx["alias_history"] = alias_history(url, collection)
    ctx["reproducibility"] = reproducibility(url, project, collection)
    return Page(url, "audit_collection.html", ctx)
