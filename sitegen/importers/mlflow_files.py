"""Read MLflow's file store (``mlruns/``) into :mod:`sitegen.importers.mlflow_model`.

Layout (as MLflow 1.x-3.x writes it)::

    mlruns/<experiment id>/meta.yaml                       name, lifecycle_stage
    mlruns/<experiment id>/<run id>/meta.yaml              status, times, user, artifact_uri
        params/<key>  metrics/<key>  tags/<key>            one file per key ('/' nests)
        inputs/<input id>/meta.yaml                        source_id -> a dataset, context tag
        artifacts/…                                        logged files
    mlruns/<experiment id>/datasets/<dataset id>/meta.yaml name, digest, source, schema, profile
    mlruns/<experiment id>/models/<model id>/meta.yaml     MLflow 3 logged models (+ artifacts/)
    mlruns/models/<name>/meta.yaml, version-<N>/meta.yaml, aliases/<alias>   the registry

Metric files hold one ``timestamp value [step]`` line per point. ``.trash`` (deleted
experiments) and runs whose ``lifecycle_stage`` is ``deleted`` are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sitegen.importers.common import ImportPlan, rel_display, walk_tree
from sitegen.importers.mlflow_model import (
    Dataset,
    LoggedModel,
    ModelVersion,
    Point,
    Run,
    Source,
    relocate,
    status_name,
)
from sitegen.store.reader import parse_yaml

SKIP_DIRS = {".trash", "models", "datasets", "traces"}


def read_file_store(root: Path, plan: ImportPlan) -> Source:
    source = Source("file", root)
    for exp_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        if exp_dir.name in SKIP_DIRS or not (exp_dir / "meta.yaml").is_file():
            continue
        meta = _yaml(exp_dir / "meta.yaml", root, plan)
        if meta.get("lifecycle_stage") == "deleted":
            continue
        name = str(meta.get("name") or exp_dir.name)
        datasets = _datasets(exp_dir, root, plan)
        for run_dir in sorted(p for p in exp_dir.iterdir() if p.is_dir() and not p.is_symlink()):
            if run_dir.name not in SKIP_DIRS and (run_dir / "meta.yaml").is_file():
                run = _run(run_dir, name, datasets, root, plan)
                if run is not None:
                    source.runs.append(run)
        source.models.extend(_logged_models(exp_dir, name, root, plan))
    _registry(root / "models", root, source, plan)
    return source


def _yaml(path: Path, root: Path, plan: ImportPlan) -> dict[str, Any]:
    where = rel_display(root, path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        plan.error(where, f"cannot read: {exc}")
        return {}
    data, problem = parse_yaml(text, where)
    if problem is not None:
        plan.problems.append(problem)
    if data is None:
        return {}
    if not isinstance(data, dict):
        plan.error(where, "expected a YAML mapping")
        return {}
    return data


def _keyed_files(folder: Path, root: Path, plan: ImportPlan) -> dict[str, str]:
    """params/, tags/: file name (nested with '/') -> its text."""
    if not folder.is_dir():
        return {}
    out = {}
    for rel, path in walk_tree(folder, rel_display(root, folder), plan):
        try:
            out[rel] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            plan.error(rel_display(root, path), f"cannot read: {exc}")
    return out


def _points(folder: Path, root: Path, plan: ImportPlan) -> tuple[Point, ...]:
    points = []
    for key, text in sorted(_keyed_files(folder, root, plan).items()):
        for lineno, line in enumerate(text.splitlines(), start=1):
            parts = line.split()
            try:
                step = int(parts[2]) if len(parts) >= 3 else 0
                points.append(Point(key, step, int(parts[0]), float(parts[1])))
            except (ValueError, IndexError):
                if line.strip():
                    where = f"{rel_display(root, folder / key)}:{lineno}"
                    plan.error(
                        where,
                        "metric line must be 'timestamp value [step]'",
                        "the line was skipped",
                    )
    return tuple(points)


def _datasets(exp_dir: Path, root: Path, plan: ImportPlan) -> dict[str, Dataset]:
    found = {}
    folder = exp_dir / "datasets"
    for ds_dir in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not (ds_dir / "meta.yaml").is_file() or ds_dir.is_symlink():
            continue
        m = _yaml(ds_dir / "meta.yaml", root, plan)
        found[ds_dir.name] = Dataset(
            str(m.get("name", "")),
            str(m.get("digest", "")),
            str(m.get("source_type", "")),
            str(m.get("source", "")),
            str(m.get("schema") or ""),
            str(m.get("profile") or ""),
        )
    return found


def _inputs(
    run_dir: Path, datasets: dict[str, Dataset], root: Path, plan: ImportPlan
) -> tuple[Dataset, ...]:
    used = []
    folder = run_dir / "inputs"
    for in_dir in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not (in_dir / "meta.yaml").is_file() or in_dir.is_symlink():
            continue
        m = _yaml(in_dir / "meta.yaml", root, plan)
        if m.get("source_type") == "DATASET" and str(m.get("source_id")) in datasets:
            used.append(datasets[str(m.get("source_id"))])
    return tuple(used)


def _run(
    run_dir: Path, experiment: str, datasets: dict[str, Dataset], root: Path, plan: ImportPlan
) -> Run | None:
    m = _yaml(run_dir / "meta.yaml", root, plan)
    if m.get("lifecycle_stage") == "deleted":
        return None
    tags = _keyed_files(run_dir / "tags", root, plan)
    artifacts: Path | None = run_dir / "artifacts"
    if artifacts is None or not artifacts.is_dir() or artifacts.is_symlink():
        # An artifact root elsewhere (--default-artifact-root): look for it inside SRC.
        artifacts = relocate(
            str(m.get("artifact_uri") or ""), root, plan, rel_display(root, run_dir)
        )
    return Run(
        id=run_dir.name,
        experiment_id=str(m.get("experiment_id", run_dir.parent.name)),
        experiment=experiment,
        name=str(tags.get("mlflow.runName") or m.get("run_name") or run_dir.name),
        status=status_name(m.get("status")),
        start_ms=_int(m.get("start_time")),
        end_ms=_int(m.get("end_time")),
        user=str(m.get("user_id") or tags.get("mlflow.user") or ""),
        params=_keyed_files(run_dir / "params", root, plan),
        tags=tags,
        points=_points(run_dir / "metrics", root, plan),
        datasets=_inputs(run_dir, datasets, root, plan),
        artifact_uri=str(m.get("artifact_uri") or ""),
        artifact_dir=_artifact_dir(run_dir, str(m.get("artifact_uri") or ""), root, plan),
        display=rel_display(root, run_dir),
    )


def _artifact_dir(run_dir: Path, uri: str, root: Path, plan: ImportPlan) -> Path | None:
    """``<run>/artifacts``, or an artifact root elsewhere (--default-artifact-root) inside SRC."""
    local = run_dir / "artifacts"
    if local.is_dir() and not local.is_symlink():
        return local
    return relocate(uri, root, plan, rel_display(root, run_dir))


def _logged_models(
    exp_dir: Path, experiment: str, root: Path, plan: ImportPlan
) -> list[LoggedModel]:
    folder, models = exp_dir / "models", []
    for model_dir in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not (model_dir / "meta.yaml").is_file() or model_dir.is_symlink():
            continue
        m = _yaml(model_dir / "meta.yaml", root, plan)
        artifacts = model_dir / "artifacts"
        models.append(
            LoggedModel(
                id=str(m.get("model_id") or model_dir.name),
                experiment=experiment,
                name=str(m.get("name") or model_dir.name),
                source_run_id=_opt(m.get("source_run_id")),
                created_ms=_int(m.get("creation_timestamp")),
                status=str(m.get("status") or ""),
                params=_keyed_files(model_dir / "params", root, plan),
                tags=_keyed_files(model_dir / "tags", root, plan),
                artifact_dir=artifacts
                if artifacts.is_dir() and not artifacts.is_symlink()
                else None,
                display=rel_display(root, model_dir),
            )
        )
    return models


def _registry(folder: Path, root: Path, source: Source, plan: ImportPlan) -> None:
    for model_dir in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not (model_dir / "meta.yaml").is_file() or model_dir.is_symlink():
            continue
        meta = _yaml(model_dir / "meta.yaml", root, plan)
        name = str(meta.get("name") or model_dir.name)
        source.descriptions[name] = str(meta.get("description") or "")
        aliases = _keyed_files(model_dir / "aliases", root, plan)
        source.aliases[name] = {a: int(v) for a, v in aliases.items() if v.strip().isdigit()}
        for v_dir in sorted(model_dir.glob("version-*")):
            if (v_dir / "meta.yaml").is_file() and not v_dir.is_symlink():
                version = _version(
                    _yaml(v_dir / "meta.yaml", root, plan), name, rel_display(root, v_dir)
                )
                if version is not None:
                    source.versions.append(version)


def _version(m: dict[str, Any], name: str, display: str) -> ModelVersion | None:
    number = _int(m.get("version"))
    if number is None or m.get("current_stage") == "Deleted_Internal":
        return None
    return ModelVersion(
        name=name,
        version=number,
        created_ms=_int(m.get("creation_timestamp")),
        description=str(m.get("description") or ""),
        source=str(m.get("source") or ""),
        storage_location=str(m.get("storage_location") or ""),
        run_id=_opt(m.get("run_id")),
        stage=str(m.get("current_stage") or "None"),
        status=str(m.get("status") or ""),
        model_id=_opt(m.get("model_id")),
        display=display,
    )


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None and str(value) != "" else None
    except ValueError:
        return None


def _opt(value: object) -> str | None:
    return str(value) if value not in (None, "", "None") else None
