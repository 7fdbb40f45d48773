"""Read MLflow's SQLite backend (``mlflow.db``) with the standard library, read-only.

Same result as :mod:`sitegen.importers.mlflow_files`: the tables hold the same entities
(``experiments``, ``runs``, ``params``, ``tags``, ``metrics``, ``datasets``/``inputs``,
``logged_models``, ``registered_models``/``model_versions``/``registered_model_aliases``).
Tables a store's MLflow version did not have yet are treated as empty. Artifacts live
outside the database: each recorded location is looked up inside the directory holding
``mlflow.db`` (see :func:`~sitegen.importers.mlflow_model.relocate`).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

from sitegen.importers.common import ImportPlan
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

Rows = list[sqlite3.Row]


class _Db:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        self.conn.row_factory = sqlite3.Row
        self.tables = {
            r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }

    def rows(self, table: str, sql: str) -> Rows:
        return list(self.conn.execute(sql)) if table in self.tables else []

    def pairs(self, table: str, sql: str) -> dict[str, dict[str, str]]:
        """owner -> {key: value} from ``SELECT owner, key, value``."""
        out: dict[str, dict[str, str]] = defaultdict(dict)
        for owner, key, value in self.rows(table, sql):
            out[str(owner)][str(key)] = str(value if value is not None else "")
        return out


def read_sqlite(db_path: Path, plan: ImportPlan) -> Source:
    try:
        db = _Db(db_path)
        try:
            return _read(db, db_path, plan)
        finally:
            db.conn.close()
    except sqlite3.DatabaseError as exc:
        plan.error(
            db_path.name, f"cannot read the MLflow database: {exc}", "is this an mlflow.db file?"
        )
        return Source("sqlite", db_path.parent)


def _read(db: _Db, db_path: Path, plan: ImportPlan) -> Source:
    source = Source("sqlite", db_path.parent)
    sql = "SELECT * FROM experiments WHERE lifecycle_stage != 'deleted'"
    experiments = {str(r["experiment_id"]): str(r["name"]) for r in db.rows("experiments", sql)}
    source.runs = _runs(db, experiments, db_path, plan)
    source.models = _logged_models(db, experiments, db_path, plan)
    _registry(db, db_path, source)
    return source


def _runs(db: _Db, experiments: dict[str, str], db_path: Path, plan: ImportPlan) -> list[Run]:
    used = _inputs(db, _datasets(db))
    params = db.pairs("params", "SELECT run_uuid, key, value FROM params")
    tags = db.pairs("tags", "SELECT run_uuid, key, value FROM tags")
    points = _points(db)
    runs = []
    sql = "SELECT * FROM runs WHERE lifecycle_stage != 'deleted' ORDER BY run_uuid"
    for r in db.rows("runs", sql):
        exp, run_id = str(r["experiment_id"]), str(r["run_uuid"])
        if exp not in experiments:
            continue
        run_tags, where = tags.get(run_id, {}), f"{db_path.name}:runs/{run_id}"
        runs.append(
            Run(
                id=run_id,
                experiment_id=exp,
                experiment=experiments[exp],
                name=str(run_tags.get("mlflow.runName") or r["name"] or run_id),
                status=status_name(r["status"]),
                start_ms=r["start_time"],
                end_ms=r["end_time"],
                user=str(r["user_id"] or run_tags.get("mlflow.user") or ""),
                params=params.get(run_id, {}),
                tags=run_tags,
                points=tuple(points.get(run_id, [])),
                datasets=tuple(used.get(run_id, [])),
                artifact_uri=str(r["artifact_uri"] or ""),
                artifact_dir=relocate(str(r["artifact_uri"] or ""), db_path.parent, plan, where),
                display=where,
            )
        )
    return runs


def _points(db: _Db) -> dict[str, list[Point]]:
    out: dict[str, list[Point]] = defaultdict(list)
    for r in db.rows("metrics", "SELECT * FROM metrics ORDER BY run_uuid, key, step, timestamp"):
        cols = set(r.keys())
        nan = bool(r["is_nan"]) if "is_nan" in cols else False
        value = float("nan") if nan else float(r["value"])
        step = int(r["step"]) if "step" in cols and r["step"] is not None else 0
        out[str(r["run_uuid"])].append(Point(str(r["key"]), step, int(r["timestamp"]), value))
    return out


def _datasets(db: _Db) -> dict[str, Dataset]:
    return {
        str(r["dataset_uuid"]): Dataset(
            str(r["name"]),
            str(r["digest"]),
            str(r["dataset_source_type"] or ""),
            str(r["dataset_source"] or ""),
            str(r["dataset_schema"] or ""),
            str(r["dataset_profile"] or ""),
        )
        for r in db.rows("datasets", "SELECT * FROM datasets")
    }


def _inputs(db: _Db, datasets: dict[str, Dataset]) -> dict[str, list[Dataset]]:
    used: dict[str, list[Dataset]] = defaultdict(list)
    sql = "SELECT * FROM inputs WHERE source_type = 'DATASET' AND destination_type = 'RUN' ORDER BY input_uuid"
    for r in db.rows("inputs", sql):
        if str(r["source_id"]) in datasets:
            used[str(r["destination_id"])].append(datasets[str(r["source_id"])])
    return used


def _logged_models(
    db: _Db, experiments: dict[str, str], db_path: Path, plan: ImportPlan
) -> list[LoggedModel]:
    params = db.pairs(
        "logged_model_params", "SELECT model_id, param_key, param_value FROM logged_model_params"
    )
    tags = db.pairs(
        "logged_model_tags", "SELECT model_id, tag_key, tag_value FROM logged_model_tags"
    )
    models = []
    sql = "SELECT * FROM logged_models WHERE lifecycle_stage != 'deleted' ORDER BY model_id"
    for r in db.rows("logged_models", sql):
        exp, model_id = str(r["experiment_id"]), str(r["model_id"])
        if exp not in experiments:
            continue
        where = f"{db_path.name}:logged_models/{model_id}"
        models.append(
            LoggedModel(
                id=model_id,
                experiment=experiments[exp],
                name=str(r["name"] or model_id),
                source_run_id=_opt(r["source_run_id"]),
                created_ms=r["creation_timestamp_ms"],
                status=str(r["status"] or ""),
                params=params.get(model_id, {}),
                tags=tags.get(model_id, {}),
                artifact_dir=relocate(
                    str(r["artifact_location"] or ""), db_path.parent, plan, where
                ),
                display=where,
            )
        )
    return models


def _registry(db: _Db, db_path: Path, source: Source) -> None:
    for r in db.rows("registered_models", "SELECT * FROM registered_models"):
        source.descriptions[str(r["name"])] = str(r["description"] or "")
    for r in db.rows("registered_model_aliases", "SELECT * FROM registered_model_aliases"):
        source.aliases.setdefault(str(r["name"]), {})[str(r["alias"])] = int(r["version"])
    sql = "SELECT * FROM model_versions WHERE current_stage != 'Deleted_Internal' ORDER BY name, version"
    for r in db.rows("model_versions", sql):
        keys = r.keys()
        model_source = str(r["source"] or "")
        source.versions.append(
            ModelVersion(
                name=str(r["name"]),
                version=int(r["version"]),
                created_ms=r["creation_time"],
                description=str(r["description"] or ""),
                source=model_source,
                storage_location=str(r["storage_location"] or "")
                if "storage_location" in keys
                else "",
                run_id=_opt(r["run_id"]),
                stage=str(r["current_stage"] or "None"),
                status=str(r["status"] or ""),
                model_id=model_source.removeprefix("models:/").split("/")[0]
                if model_source.startswith("models:/")
                else None,
                display=f"{db_path.name}:model_versions/{r['name']}/{r['version']}",
            )
        )


def _opt(value: Any) -> str | None:
    return str(value) if value not in (None, "", "None") else None
