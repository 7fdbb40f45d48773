"""``sitegen import mlflow SRC``: an MLflow file store or SQLite database -> a sitegen plan.

SRC is an ``mlruns/`` directory (the file store), a directory holding one, an
``mlflow.db`` file, or a directory holding ``mlflow.db`` (with its artifacts beside it).

Mapping (see docs/importers.md):

- run -> run (same id; params -> config, latest metric values -> summary, every metric
  point -> one history row, tags, note, user, times, status);
- a run's logged artifacts -> a version of ``mlflow-artifacts/<experiment>``;
- a logged model (MLflow 3) -> a version of ``mlflow-model/<experiment>.<name>``;
- a registered model version -> a version of ``model/<name>``, with its aliases;
- a dataset input -> a version of ``dataset/<name>`` (its MLflow description as
  ``mlflow-dataset.json``), listed in the run's inputs: the lineage edge.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sitegen.importers.common import (
    FileSpec,
    ImportPlan,
    RunSpec,
    VersionSpec,
    files_from_tree,
    iso_from_ms,
    json_number,
    run_record,
    safe_join,
    sanitise_name,
    sanitise_run_id,
)
from sitegen.importers.mlflow_files import read_file_store
from sitegen.importers.mlflow_model import (
    STATUS_MAP,
    Dataset,
    LoggedModel,
    ModelVersion,
    Point,
    Run,
    Source,
    relocate,
)
from sitegen.importers.mlflow_sqlite import read_sqlite
from sitegen.store.format import check_alias

SQLITE_MAGIC = b"SQLite format 3\x00"


def read_source(src: Path, plan: ImportPlan) -> Source | None:
    """Pick the backend from what SRC is."""
    if src.is_file():
        with open(src, "rb") as fh:
            is_sqlite = fh.read(16) == SQLITE_MAGIC
        if is_sqlite:
            return read_sqlite(src, plan)
        plan.error(
            str(src), "not an MLflow SQLite database", "give an mlruns/ directory or mlflow.db"
        )
        return None
    if (src / "mlflow.db").is_file():
        return read_sqlite(src / "mlflow.db", plan)
    root = src / "mlruns" if (src / "mlruns").is_dir() else src
    if not root.is_dir():
        plan.error(str(src), "no such directory", "give an mlruns/ directory or mlflow.db")
        return None
    return read_file_store(root, plan)


def load(src: Path) -> ImportPlan:
    plan = ImportPlan("mlflow")
    source = read_source(src, plan)
    if source is None:
        return plan
    runs = sorted(source.runs, key=lambda r: (r.start_ms or 0, r.id))
    run_ids = {r.id: sanitise_run_id(r.id) for r in runs}
    outputs: dict[str, list[str]] = {r.id: [] for r in runs}
    _dataset_versions(runs, plan)
    for run in runs:
        _run_artifacts(run, run_ids, outputs, plan)
    models = {m.id: m for m in source.models}
    for model in sorted(source.models, key=lambda m: (m.created_ms or 0, m.id)):
        _logged_model(model, run_ids, outputs, plan)
    for version in sorted(source.versions, key=lambda v: (v.name, v.version)):
        _model_version(version, source, models, run_ids, outputs, plan)
    plan.runs.extend(_run_spec(r, run_ids[r.id], outputs[r.id]) for r in runs)
    return plan


# --- versions ------------------------------------------------------------------------------


def _dataset_versions(runs: list[Run], plan: ImportPlan) -> None:
    first_use: dict[str, tuple[int, Dataset]] = {}
    for run in runs:
        for ds in run.datasets:
            first_use.setdefault(ds.key, (run.start_ms or 0, ds))
    for when, ds in sorted(first_use.values(), key=lambda x: (x[0], x[1].key)):
        description = {
            "name": ds.name,
            "digest": ds.digest,
            "source_type": ds.source_type,
            "source": _maybe_json(ds.source),
            "schema": _maybe_json(ds.schema),
            "profile": _maybe_json(ds.profile),
        }
        body = (
            json.dumps(description, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        ).encode()
        plan.versions.append(
            VersionSpec(
                key=ds.key,
                type="dataset",
                name=sanitise_name(ds.name or "dataset"),
                files=(FileSpec.of_bytes("mlflow-dataset.json", body),),
                created_at=iso_from_ms(when),
                run=None,
                source={"tool": "mlflow", "kind": "dataset", "id": f"{ds.name}@{ds.digest}"},
                metadata={
                    "mlflow_digest": ds.digest,
                    "source_type": ds.source_type,
                    "source": _maybe_json(ds.source),
                },
            )
        )


def _run_artifacts(
    run: Run, run_ids: dict[str, str], outputs: dict[str, list[str]], plan: ImportPlan
) -> None:
    if run.artifact_dir is None:
        if run.artifact_uri and not run.artifact_uri.startswith(("file:", "/")):
            plan.warn(
                run.display,
                f"artifacts at {run.artifact_uri} are not in the source",
                "they were not imported",
            )
        return
    files = files_from_tree(run.artifact_dir, f"{run.display}/artifacts", plan)
    if not files:
        return
    key = f"mlflow:run:{run.id}"
    plan.versions.append(
        VersionSpec(
            key=key,
            type="mlflow-artifacts",
            name=sanitise_name(run.experiment),
            files=files,
            created_at=iso_from_ms(run.end_ms or run.start_ms),
            run=run_ids[run.id],
            source={
                "tool": "mlflow",
                "kind": "run-artifacts",
                "id": run.id,
                "path": f"{run.display}/artifacts",
            },
            description=f"Artifacts of MLflow run {run.name}",
        )
    )
    outputs[run.id].append(key)


def _logged_model(
    model: LoggedModel, run_ids: dict[str, str], outputs: dict[str, list[str]], plan: ImportPlan
) -> None:
    if model.artifact_dir is None:
        return
    files = files_from_tree(model.artifact_dir, f"{model.display}/artifacts", plan)
    if not files:
        return
    producer = model.source_run_id if model.source_run_id in run_ids else None
    key = f"mlflow:model:{model.id}"
    plan.versions.append(
        VersionSpec(
            key=key,
            type="mlflow-model",
            name=sanitise_name(f"{model.experiment}.{model.name}"),
            files=files,
            created_at=iso_from_ms(model.created_ms),
            run=run_ids[producer] if producer else None,
            source={
                "tool": "mlflow",
                "kind": "logged-model",
                "id": model.id,
                "path": model.display,
            },
            metadata={
                "model_id": model.id,
                "params": dict(model.params),
                "tags": _user_tags(model.tags),
            },
        )
    )
    if producer:
        outputs[producer].append(key)


def _model_version(
    v: ModelVersion,
    source: Source,
    models: dict[str, LoggedModel],
    run_ids: dict[str, str],
    outputs: dict[str, list[str]],
    plan: ImportPlan,
) -> None:
    folder = _version_dir(v, source, models, plan)
    where = f"{v.display} (model {v.name} version {v.version})"
    if folder is None:
        hint = "the version was not imported"
        plan.warn(where, f"cannot find the files of {v.source!r} inside the source", hint)
        return
    producer = v.run_id if v.run_id in run_ids else None
    spec = VersionSpec(
        key=f"mlflow:registry:{v.name}:{v.version}",
        type="model",
        name=sanitise_name(v.name),
        files=files_from_tree(folder, where, plan),
        created_at=iso_from_ms(v.created_ms),
        run=run_ids[producer] if producer else None,
        source={
            "tool": "mlflow",
            "kind": "model-version",
            "id": f"{v.name}/{v.version}",
            "path": v.display,
        },
        description=v.description or source.descriptions.get(v.name, ""),
        metadata={
            "mlflow_version": v.version,
            "stage": v.stage,
            "status": v.status,
            "source": v.source,
        },
        aliases=_aliases(v, source, plan),
    )
    plan.versions.append(spec)
    if producer:
        outputs[producer].append(spec.key)


def _version_dir(
    v: ModelVersion, source: Source, models: dict[str, LoggedModel], plan: ImportPlan
) -> Path | None:
    """Where a registered version's files are, inside the source; None if not there."""
    model_id = v.model_id or (
        v.source.removeprefix("models:/").split("/")[0] if v.source.startswith("models:/") else None
    )
    if model_id and model_id in models:
        return models[model_id].artifact_dir
    if v.source.startswith("runs:/"):
        run_id, _, rel = v.source.removeprefix("runs:/").partition("/")
        run = next((r for r in source.runs if r.id == run_id), None)
        if run is None or run.artifact_dir is None:
            return None
        if not rel:
            return run.artifact_dir
        folder, why = safe_join(run.artifact_dir, rel)
        if why:
            plan.error(
                v.display, f"model version source {v.source!r}: {why}", "it was not followed"
            )
        return folder if folder is not None and folder.is_dir() else None
    for location in (v.source, v.storage_location):
        found = relocate(location, source.base, plan, v.display) if location else None
        if found is not None:
            return found
    return None


def _aliases(v: ModelVersion, source: Source, plan: ImportPlan) -> tuple[str, ...]:
    names = sorted(a for a, n in source.aliases.get(v.name, {}).items() if n == v.version)
    good = []
    for alias in names:
        why = check_alias(alias)
        if why:
            plan.warn(f"{v.display}", f"alias skipped: {why}")
        else:
            good.append(alias)
    return tuple(good)


# --- runs ----------------------------------------------------------------------------------


def _run_spec(run: Run, run_id: str, outputs: list[str]) -> RunSpec:
    tags = dict(run.tags)
    git = (
        {"commit": tags["mlflow.source.git.commit"]} if tags.get("mlflow.source.git.commit") else {}
    )
    record = run_record(
        run_id,
        name=run.name,
        status=STATUS_MAP.get(run.status, "running"),
        started_at=iso_from_ms(run.start_ms),
        finished_at=iso_from_ms(run.end_ms) or None,
        config=dict(sorted(run.params.items())),
        summary=_summary(run.points),
        git=git,
        user=run.user,
        notes=tags.get("mlflow.note.content", ""),
        tags=[f"{k}={v}" if v else k for k, v in sorted(_user_tags(tags).items())],
        source={
            "tool": "mlflow",
            "id": run.id,
            "experiment_id": run.experiment_id,
            "experiment": run.experiment,
            "path": run.display,
            "status": run.status,
            "tags": dict(sorted(tags.items())),
        },
    )
    inputs = tuple(dict.fromkeys(ds.key for ds in run.datasets))
    return RunSpec(record, inputs, tuple(outputs), _history(run.points))


def distinct_points(points: Iterable[Point]) -> list[Point]:
    """Each metric point once: the file store can hold exact duplicate lines."""
    seen: dict[tuple[str, int, int, bool, float], Point] = {}
    for p in points:
        seen.setdefault(p.identity(), p)
    return sorted(seen.values(), key=lambda p: (p.step, p.timestamp, p.key, p.identity()))


def _history(points: Iterable[Point]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"_step": p.step, "_timestamp": p.timestamp, p.key: json_number(p.value)}
        for p in distinct_points(points)
    )


def _summary(points: Iterable[Point]) -> dict[str, Any]:
    """The latest value of each metric (highest step, then latest timestamp), like MLflow's."""
    latest: dict[str, Point] = {}
    for p in distinct_points(points):
        current = latest.get(p.key)
        if current is None or (p.step, p.timestamp) >= (current.step, current.timestamp):
            latest[p.key] = p
    return {k: json_number(p.value) for k, p in sorted(latest.items())}


def _user_tags(tags: dict[str, str] | Any) -> dict[str, str]:
    return {k: v for k, v in dict(tags).items() if not k.startswith("mlflow.")}


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return text
