"""Write an :class:`~sitegen.importers.common.ImportPlan` into a store, idempotently.

- Nothing is written when the plan has errors (every problem is reported first).
- Versions go through :meth:`StoreWriter.commit_version`, which deduplicates by content
  digest: importing the same source twice commits nothing new.
- A run record is rewritten only when its bytes change; ``run.started``, ``artifact.used``
  and ``run.finished`` events are appended only when the log does not already say so. A run
  whose record changed (the source grew) gets a new ``run.finished`` sealing the new record.
- A run id already used by something else (another tool, or a run logged with the SDK) is
  an error, never overwritten.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sitegen.errors import Problem, SitegenError, errors_only
from sitegen.importers.common import ImportPlan, RunSpec, VersionSpec
from sitegen.store.backend import Backend
from sitegen.store.events import read_log
from sitegen.store.format import canonical_json, history_key, run_key, sha256_hex
from sitegen.store.writer import Committed, StoreWriter

TERMINAL = frozenset({"finished", "failed", "crashed"})


@dataclass
class ImportReport:
    tool: str
    versions_new: int = 0
    versions_existing: int = 0
    runs_new: int = 0
    runs_updated: int = 0
    runs_unchanged: int = 0
    events: int = 0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        warnings = sum(1 for p in self.problems if p.severity == "warning")
        return (
            f"{self.tool}: {self.runs_new + self.runs_updated + self.runs_unchanged} runs "
            f"({self.runs_new} new, {self.runs_updated} updated, {self.runs_unchanged} unchanged), "
            f"{self.versions_new + self.versions_existing} versions ({self.versions_new} new, "
            f"{self.versions_existing} already in the store), {self.events} events appended"
            + (f", {warnings} warning(s)" if warnings else "")
        )


@dataclass
class _Log:
    """What the event log already records about runs (read once, kept current)."""

    started: set[str] = field(default_factory=set)
    finished: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (status, sha)
    used: set[tuple[str, str]] = field(default_factory=set)


def apply_plan(plan: ImportPlan, writer: StoreWriter, project: str) -> ImportReport:
    """Commit the plan's versions, then write its runs; raise if the plan has errors."""
    report = ImportReport(plan.tool, problems=list(plan.problems))
    check_run_owners(plan, writer.backend)
    if errors_only(plan.problems):
        raise SitegenError(sorted(plan.problems))
    writer.ensure_root(project)
    refs: dict[str, str] = {}
    before = writer.state().length
    for spec in plan.versions:
        committed = commit(writer, spec)
        refs[spec.key] = committed.ref
        if committed.created:
            report.versions_new += 1
        else:
            report.versions_existing += 1
    log = read_run_log(writer.backend)
    for run in plan.runs:
        outcome = write_run(writer, run, refs, log)
        setattr(report, f"runs_{outcome}", getattr(report, f"runs_{outcome}") + 1)
    report.events = writer.state().length - before
    return report


def check_run_owners(plan: ImportPlan, backend: Backend) -> None:
    """A run id that exists with another source (or none) is an error: never overwrite it."""
    for run in plan.runs:
        existing = _read_json(backend, run_key(run.id))
        if existing is None:
            continue
        ours, theirs = run.record.get("source") or {}, existing.get("source") or {}
        if (ours.get("tool"), ours.get("id")) != (theirs.get("tool"), theirs.get("id")):
            owner = (
                f"{theirs.get('tool')} {theirs.get('id')}"
                if theirs
                else "a run logged with sitegen"
            )
            plan.error(
                backend.display(run_key(run.id)),
                f"run id {run.id!r} is already used by {owner}",
                "import into another store, or remove that run first",
            )


def commit(writer: StoreWriter, spec: VersionSpec) -> Committed:
    """Store the bytes (re-checking their sha256) and commit the manifest, or find its twin."""
    for f in spec.files:
        if f.local is None and f.data is None:
            continue
        data = f.data if f.data is not None else f.local.read_bytes() if f.local else b""
        if writer.put_object(data) != f.sha256:
            raise SitegenError.single(
                str(f.local), "file changed during the import", "import again"
            )
    manifest: dict[str, Any] = {
        "format": 1,
        "type": spec.type,
        "name": spec.name,
        "created_at": spec.created_at,
        "run": spec.run,
        "description": spec.description,
        "metadata": dict(spec.metadata),
        "files": {f.path: f.entry() for f in spec.files},
        "source": dict(spec.source),
    }
    return writer.commit_version(manifest, spec.aliases)


def read_run_log(backend: Backend) -> _Log:
    events, _ = read_log(backend)
    log = _Log()
    for ev in events:
        run_id = str(ev.data.get("run_id"))
        if ev.type == "run.started":
            log.started.add(run_id)
        elif ev.type == "run.finished":
            log.finished[run_id] = (str(ev.data.get("status")), str(ev.data.get("record_sha256")))
        elif ev.type == "artifact.used":
            log.used.add((run_id, str(ev.data.get("ref"))))
    return log


def write_run(writer: StoreWriter, run: RunSpec, refs: Mapping[str, str], log: _Log) -> str:
    """Write one run's record, history and events; 'new', 'updated' or 'unchanged'."""
    existing = _read_json(writer.backend, run_key(run.id))
    record = _with_lineage(run, refs, existing)
    body = canonical_json(record)
    changed = existing is None or writer.backend.read(run_key(run.id)) != body
    history_changed = _write_history(writer, run)
    status, actor = str(record["status"]), {**writer.actor, "run": run.id}
    if status in TERMINAL and run.id not in log.started:
        writer.append("run.started", {"run_id": run.id, "job_type": record["job_type"]}, actor)
        log.started.add(run.id)
    for ref in record["inputs"]:
        if status in TERMINAL and (run.id, ref) not in log.used:
            writer.append("artifact.used", {"run_id": run.id, "ref": ref}, actor)
            log.used.add((run.id, ref))
    if changed:
        writer.backend.put(run_key(run.id), body)
    sha = sha256_hex(body)
    if status in TERMINAL and log.finished.get(run.id) != (status, sha):
        data = {"run_id": run.id, "status": status, "record_sha256": sha}
        writer.append("run.finished", data, actor)
        log.finished[run.id] = (status, sha)
    if existing is None:
        return "new"
    return "updated" if changed or history_changed else "unchanged"


def _with_lineage(
    run: RunSpec, refs: Mapping[str, str], existing: Mapping[str, Any] | None
) -> dict[str, Any]:
    record = dict(run.record)
    record["inputs"] = list(dict.fromkeys(refs[k] for k in run.inputs if k in refs))
    record["outputs"] = list(dict.fromkeys(refs[k] for k in run.outputs if k in refs))
    old_start = (existing or {}).get("started_at")
    if (
        isinstance(old_start, str)
        and old_start
        and (not record["started_at"] or old_start < record["started_at"])
    ):
        # A run first seen earlier keeps its first times (DVC executions seen in several revisions).
        record["started_at"], record["finished_at"] = old_start, (existing or {}).get("finished_at")
    return record


def _write_history(writer: StoreWriter, run: RunSpec) -> bool:
    if not run.history:
        return False
    key = history_key(run.id)
    rows = [dict(r) for r in run.history]
    if writer.backend.exists(key):
        lines = writer.backend.read(key).decode("utf-8").splitlines()
        try:
            if [json.loads(line) for line in lines if line.strip()] == rows:
                return False
        except json.JSONDecodeError:
            pass
    writer.write_history(run.id, rows)
    return True


def _read_json(backend: Backend, key: str) -> dict[str, Any] | None:
    if not backend.exists(key):
        return None
    try:
        data = json.loads(backend.read(key))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
