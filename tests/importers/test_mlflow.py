"""MLflow: file store and SQLite, checked against what MLflow's own client reported."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from sitegen.errors import SitegenError
from sitegen.importers import read_plan
from sitegen.sdk.store import Store
from tests.importers.conftest import build_ok, expected, read_json, run_import, snapshot

BACKENDS = ["mlflow_file", "mlflow_sqlite"]


def _oracle(src: Path) -> dict[str, Any]:
    return expected("mlflow-sqlite" if src.name == "mlflow.db" else "mlflow-file")


def _distinct(history: list[list[Any]]) -> list[tuple[int, int, Any]]:
    return sorted({(s, t, v) for s, t, v in history}, key=lambda p: (p[0], p[1], str(p[2])))


@pytest.fixture(params=BACKENDS)
def src(request: pytest.FixtureRequest) -> Path:
    path: Path = request.getfixturevalue(request.param)
    return path


def test_runs_params_and_metric_points_match_mlflow(src: Path, store: Path) -> None:
    oracle = _oracle(src)
    run_import("mlflow", src, store)
    records = Store(store).load()
    assert not [p for p in records.problems if p.severity == "error"]
    runs = {r.id: r for r in records.runs}
    assert sorted(runs) == sorted(oracle["runs"])  # the deleted run is not imported
    assert oracle["ids"]["deleted"] not in runs
    for run_id, want in oracle["runs"].items():
        run = runs[run_id]
        assert run.name == want["name"]
        assert run.config == want["params"]
        assert run.summary == want["metrics"]
        history = records.histories.get(run_id, ())
        points = sum(len(_distinct(h)) for h in want["history"].values())
        assert len(history) == points
        for key, raw in want["history"].items():
            got = [(row["_step"], row["_timestamp"], row[key]) for row in history if key in row]
            assert got == _distinct(raw)
    statuses = {runs[oracle["ids"][role]].status for role in ("failed", "running", "train-1")}
    assert statuses == {"failed", "running", "finished"}


def test_artifacts_models_and_registry_become_versions(src: Path, store: Path) -> None:
    oracle = _oracle(src)
    run_import("mlflow", src, store)
    handle = Store(store)
    runs = {r.id: r for r in handle.load().runs}
    for run_id, want in oracle["runs"].items():
        produced = [ref for ref in runs[run_id].outputs if ref.startswith("mlflow-artifacts/")]
        if not want["artifacts"]:
            assert produced == []
            continue
        (ref,) = produced
        version = handle.artifact(ref)
        assert {f.path: f.size for f in version.files} == want["artifacts"]
        base = src.parent / "mlruns" if src.name == "mlflow.db" else src
        for f in version.files:
            data = next(base.glob(f"*/{run_id}/artifacts/{f.path}")).read_bytes()
            assert f.sha256 == hashlib.sha256(data).hexdigest()
    registry = [v for v in oracle["registry"] if "alias" not in v]
    assert sum(len(handle.versions(c)) for c in ("model/grader", "model/weights-only")) == len(
        registry
    )
    assert len(handle.versions("mlflow-model/essays.model")) == len(oracle["logged_models"])
    aliases = {v["alias"]: v["version"] for v in oracle["registry"] if "alias" in v}
    for alias, mlflow_number in aliases.items():
        version = handle.artifact(f"model/grader:{alias}")
        manifest = read_json(store / f"artifacts/model/grader/v{version.version}/manifest.json")
        assert manifest["metadata"]["mlflow_version"] == mlflow_number
        assert manifest["source"]["id"] == f"grader/{mlflow_number}"


def test_dataset_inputs_are_lineage_edges(src: Path, store: Path) -> None:
    oracle = _oracle(src)
    run_import("mlflow", src, store)
    records = Store(store).load()
    for run in records.runs:
        datasets = oracle["runs"][run.id]["datasets"]
        assert run.inputs == (("dataset/essays-train:v0",) if datasets else ())
    (dataset,) = [v for v in records.versions if v.type == "dataset"]
    assert (
        dataset.metadata["mlflow_digest"]
        == oracle["runs"][oracle["ids"]["prepare"]]["datasets"][0][1]
    )


def test_both_backends_give_the_same_result(
    mlflow_file: Path, mlflow_sqlite: Path, tmp_path: Path
) -> None:
    def shape(store: Path) -> Any:
        records = Store(store).load()
        runs = sorted(
            (
                r.name,
                r.status,
                json.dumps(r.config),
                json.dumps(r.summary),
                len(records.histories.get(r.id, ())),
            )
            for r in records.runs
        )
        versions = sorted((v.ref, tuple(sorted(f.path for f in v.files))) for v in records.versions)
        stable = sorted(
            (v.ref, f.path, f.sha256)
            for v in records.versions
            for f in v.files
            if v.type in ("dataset", "mlflow-artifacts") or f.path.startswith("weights")
        )
        return runs, versions, stable

    run_import("mlflow", mlflow_file, tmp_path / "a")
    run_import("mlflow", mlflow_sqlite, tmp_path / "b")
    assert shape(tmp_path / "a") == shape(tmp_path / "b")


def test_reimport_is_a_no_op(src: Path, store: Path) -> None:
    first = run_import("mlflow", src, store)
    before = snapshot(store)
    again = run_import("mlflow", src, store)
    assert snapshot(store) == before
    assert (again.versions_new, again.runs_new, again.runs_updated, again.events) == (0, 0, 0, 0)
    assert again.runs_unchanged == first.runs_new


def test_grown_source_adds_only_the_new_items(
    mlflow_file: Path, store: Path, tmp_path: Path
) -> None:
    oracle = expected("mlflow-file")
    train2 = oracle["ids"]["train-2"]
    smaller = Path(shutil.copytree(mlflow_file, tmp_path / "smaller"))
    shutil.rmtree(next(smaller.glob(f"*/{train2}")))
    for model_id, model in oracle["logged_models"].items():
        if model["source_run_id"] == train2:
            shutil.rmtree(next(smaller.glob(f"*/models/{model_id}")))
    shutil.rmtree(smaller / "models/grader/version-2")
    (smaller / "models/grader/aliases/champion").unlink()
    run_import("mlflow", smaller, store)
    before = snapshot(store)
    grown = run_import("mlflow", mlflow_file, store)
    after = snapshot(store)
    assert {k: after[k] for k in before} == before  # nothing existing changed
    assert (grown.runs_new, grown.runs_updated, grown.versions_new) == (1, 0, 3)
    assert Store(store).artifact("model/grader:champion").version == 1


def test_build_works_on_the_imported_store(src: Path, store: Path, tmp_path: Path) -> None:
    run_import("mlflow", src, store)
    build_ok(store, tmp_path / "site")


def _hostile(plan_src: Path) -> list[str]:
    with pytest.raises(SitegenError) as caught:
        run_import("mlflow", plan_src, plan_src.parent / "hostile-store")
    assert not (plan_src.parent / "hostile-store").exists()  # nothing was written
    return [str(p) for p in caught.value.problems if p.severity == "error"]


def _set_source(mlruns: Path, value: str) -> None:
    meta = mlruns / "models/weights-only/version-1/meta.yaml"
    text = meta.read_text("utf-8")
    old = next(line for line in text.splitlines() if line.startswith("source:"))
    meta.write_text(text.replace(old, f"source: {value}"), "utf-8")


def test_model_version_source_escaping_the_run_is_rejected(mlflow_file: Path) -> None:
    run_id = expected("mlflow-file")["ids"]["train-1"]
    _set_source(mlflow_file, f"runs:/{run_id}/../../../../../../etc")
    (problem,) = _hostile(mlflow_file)
    assert "'..' segment" in problem and "weights-only" in problem


def test_model_version_outside_the_source_is_not_read(mlflow_file: Path, store: Path) -> None:
    _set_source(mlflow_file, "file:///etc")
    report = run_import("mlflow", mlflow_file, store)
    assert any("cannot find the files" in str(p) for p in report.problems)
    assert "model/weights-only" not in Store(store).collections()


@pytest.mark.parametrize("name", ["back\\slash.txt", "tab\tname.txt", "%2e%2e"])
def test_unsafe_artifact_file_names_are_rejected(mlflow_file: Path, name: str) -> None:
    run_id = expected("mlflow-file")["ids"]["prepare"]
    folder = next(mlflow_file.glob(f"*/{run_id}/artifacts"))
    (folder / name).write_text("x", "utf-8")
    (problem,) = _hostile(mlflow_file)
    assert "unsafe file path" in problem and "hint:" in problem


def test_symlinks_in_artifacts_are_not_followed(mlflow_file: Path) -> None:
    run_id = expected("mlflow-file")["ids"]["prepare"]
    folder = next(mlflow_file.glob(f"*/{run_id}/artifacts"))
    (folder / "bashrc").symlink_to("/etc/passwd")
    (problem,) = _hostile(mlflow_file)
    assert "symbolic link" in problem


def test_sqlite_artifact_location_with_dotdot_is_rejected(mlflow_sqlite: Path) -> None:
    import sqlite3

    run_id = expected("mlflow-sqlite")["ids"]["prepare"]
    with sqlite3.connect(mlflow_sqlite) as conn:
        conn.execute(
            "UPDATE runs SET artifact_uri = ? WHERE run_uuid = ?", ("/x/../../home/.ssh", run_id)
        )
    (problem,) = _hostile(mlflow_sqlite)
    assert "'..' or '.' segments" in problem


def test_plan_reads_without_writing(mlflow_file: Path, tmp_path: Path) -> None:
    plan = read_plan("mlflow", mlflow_file)
    assert plan.runs and plan.versions
    assert not (tmp_path / "store").exists()


def test_a_run_that_grew_is_updated_and_resealed(mlflow_file: Path, store: Path) -> None:
    from sitegen.store import open_backend
    from sitegen.verify import verify

    run_id = expected("mlflow-file")["ids"]["train-1"]
    run_import("mlflow", mlflow_file, store)
    rows = len(Store(store).load().histories[run_id])
    with next(mlflow_file.glob(f"*/{run_id}/metrics/loss")).open("a") as fh:
        fh.write("1714550409000 0.125 9\n")
    grown = run_import("mlflow", mlflow_file, store)
    assert (grown.runs_updated, grown.runs_unchanged, grown.versions_new, grown.events) == (
        1,
        4,
        0,
        1,
    )
    records = Store(store).load()
    assert len(records.histories[run_id]) == rows + 1
    assert next(r for r in records.runs if r.id == run_id).summary["loss"] == 0.125
    assert verify(open_backend(store)).ok  # the new run.finished seals the new record
