"""MLflow fixtures: the same small project logged into a file store and a SQLite store.

Run only by ``tests/importers/make_fixtures.py`` inside a throwaway venv with ``mlflow``.
The oracle (``expected.json``) is read back through MLflow's own client API, so the tests
compare the importer with what MLflow itself reports.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

import mlflow
import pandas as pd
from mlflow import MlflowClient

T0 = 1_714_550_400_000  # 2024-05-01T08:00:00Z, explicit metric timestamps (ms)


class Grader(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    """A trivial model: enough for MLflow to write a real MLmodel directory."""

    def predict(self, context, model_input):
        return model_input


def _dataset() -> Any:
    frame = pd.DataFrame({"essay": ["a", "b"], "grade": [3, 4]})
    return mlflow.data.from_pandas(frame, source="data/essays.csv", name="essays-train")


def _train(name: str, lr: float, losses: list[float], dataset: Any) -> str:
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params({"lr": lr, "epochs": len(losses), "optimizer": "adam"})
        for step, loss in enumerate(losses):
            mlflow.log_metric("loss", loss, step=step, timestamp=T0 + 1000 * step)
            mlflow.log_metric("accuracy", 1 - loss / 2, step=step, timestamp=T0 + 1000 * step)
        mlflow.set_tags({"team": "nlp", "mlflow.note.content": f"Run **{name}**"})
        mlflow.log_input(dataset, context="training")
        mlflow.log_text(f"weights lr={lr}\n", "weights/weights.txt")
        mlflow.log_dict({"lr": lr, "layers": [8, 4]}, "weights/config.json")
        mlflow.pyfunc.log_model(
            name="model", python_model=Grader(), registered_model_name="grader", pip_requirements=[]
        )
        return str(run.info.run_id)


def populate(uri: str) -> dict[str, str]:
    """Log the project; returns the ids of the interesting runs by role."""
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = mlflow.set_experiment("essays")
    client = MlflowClient(uri, uri)
    dataset = _dataset()
    ids: dict[str, str] = {}
    with mlflow.start_run(run_name="prepare") as run:
        mlflow.log_param("split", 0.5)
        mlflow.log_input(dataset, context="training")
        mlflow.log_dict({"rows": 2, "name": "essays, ünïcode"}, "stats/summary.json")
        ids["prepare"] = run.info.run_id
    ids["train-1"] = _train("train-1", 0.1, [1.0, 0.5, 0.25], dataset)
    ids["train-2"] = _train("train-2", 0.05, [0.9, 0.4, 0.2, 0.1], dataset)
    with mlflow.start_run(run_name="diverged") as run:
        mlflow.log_param("lr", 10)
        mlflow.log_metric("loss", 5.0, step=0, timestamp=T0)
        mlflow.log_metric("loss", math.nan, step=1, timestamp=T0 + 1000)
        ids["failed"] = run.info.run_id
        mlflow.end_run(status="FAILED")
    running = client.create_run(experiment.experiment_id, run_name="still-running")
    client.log_param(running.info.run_id, "lr", "0.01")
    ids["running"] = running.info.run_id
    with mlflow.start_run(run_name="discarded") as run:
        mlflow.log_param("lr", 1)
        ids["deleted"] = run.info.run_id
    client.delete_run(ids["deleted"])
    client.set_registered_model_alias("grader", "champion", "2")
    client.set_registered_model_alias("grader", "challenger", "1")
    client.create_registered_model("weights-only", description="Raw weights, no flavor")
    client.create_model_version(
        "weights-only", f"runs:/{ids['train-1']}/weights", run_id=ids["train-1"]
    )
    return ids


def _walk_artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            out.update(_walk_artifacts(client, run_id, item.path))
        else:
            out[item.path] = int(item.file_size or 0)
    return out


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def _run_oracle(client: MlflowClient, run: Any) -> dict[str, Any]:
    data = run.data
    history = {
        key: sorted(
            (m.step, m.timestamp, _number(m.value))
            for m in client.get_metric_history(run.info.run_id, key)
        )
        for key in data.metrics
    }
    return {
        "name": run.info.run_name,
        "status": run.info.status,
        "start_time": run.info.start_time,
        "end_time": run.info.end_time,
        "params": dict(data.params),
        "tags": dict(data.tags),
        "metrics": {k: _number(v) for k, v in data.metrics.items()},
        "history": history,
        "datasets": sorted(
            (d.dataset.name, d.dataset.digest)
            for d in (run.inputs.dataset_inputs if run.inputs else [])
        ),
        "artifacts": _walk_artifacts(client, run.info.run_id),
    }


def oracle(uri: str, ids: dict[str, str]) -> dict[str, Any]:
    """What MLflow itself says is in the store (active runs, registry, datasets)."""
    client = MlflowClient(uri, uri)
    experiment = client.get_experiment_by_name("essays")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    versions = []
    for model in client.search_registered_models():
        for mv in client.search_model_versions(f"name='{model.name}'"):
            versions.append(
                {
                    "name": mv.name,
                    "version": int(mv.version),
                    "run_id": mv.run_id,
                    "source": mv.source,
                }
            )
        for alias, number in model.aliases.items():
            versions.append({"alias": alias, "name": model.name, "version": int(number)})
    models = client.search_logged_models([experiment.experiment_id])
    return {
        "ids": ids,
        "runs": {r.info.run_id: _run_oracle(client, r) for r in runs},
        "registry": sorted(
            versions, key=lambda v: (v["name"], str(v.get("alias", "")), v["version"])
        ),
        "logged_models": {
            m.model_id: {"name": m.name, "source_run_id": m.source_run_id} for m in models
        },
        "mlflow_version": mlflow.__version__,
    }


def generate(workdir: Path, backend: str) -> dict[str, Any]:
    """Log the project into ``workdir`` (``file`` -> mlruns/, ``sqlite`` -> mlflow.db)."""
    workdir.mkdir(parents=True, exist_ok=True)
    cwd = Path.cwd()
    os.chdir(workdir)  # the SQLite store puts artifacts in ./mlruns
    try:
        uri = (workdir / "mlruns").as_uri() if backend == "file" else "sqlite:///mlflow.db"
        ids = populate(uri)
        return oracle(uri, ids)
    finally:
        os.chdir(cwd)
