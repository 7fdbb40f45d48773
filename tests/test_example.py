"""The bundled example store: it loads cleanly, has what the quick start promises, and
``example_project/generate.py`` regenerates it byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sitegen
from sitegen.errors import errors_only

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"
STORE = EXAMPLE / "store"

EXPECTED_VERSIONS = {
    "dataset/cars": 2,
    "dataset/seattle-weather": 3,
    "evaluation/weather-classifier-comparison": 1,
    "model/mpg-regressor": 2,
    "model/weather-classifier": 3,
}


def tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` by relative POSIX path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_committed_store_loads_without_errors() -> None:
    records = sitegen.Store(STORE).load()
    assert errors_only(records.problems) == []


def test_committed_store_has_the_documented_content() -> None:
    store = sitegen.Store(STORE)
    assert {c: len(store.versions(c)) for c in store.collections()} == EXPECTED_VERSIONS
    aliases = store.state().aliases
    assert aliases["model/weather-classifier"] == {"production": 1, "candidate": 2}
    assert aliases["model/mpg-regressor"]["production"] in (0, 1)
    runs = {r.id: r for r in store.load().runs}
    assert len(runs) == 12
    assert [r for r, run in runs.items() if run.status != "finished"] == [
        "train-weather-boosting-bad-lr"
    ]
    assert runs["train-weather-boosting-bad-lr"].status == "failed"
    assert runs["train-weather-boosting-bad-lr"].outputs == ()
    evaluation = runs["eval-weather-forest-vs-boosting"]
    assert set(evaluation.inputs) == {
        "dataset/seattle-weather:v2",
        "model/weather-classifier:v1",
        "model/weather-classifier:v2",
    }


def test_committed_store_has_a_reference_and_metric_histories() -> None:
    store = sitegen.Store(STORE)
    v0 = store.artifact("dataset/seattle-weather:v0")
    assert [f.path for f in v0.files if f.ref] == ["raw/seattle-weather.csv"]
    histories = store.load().histories
    steps = {run_id: len(rows) for run_id, rows in histories.items() if rows}
    assert steps == {
        "train-mpg-boosting": 100,
        "train-mpg-ridge": 20,
        "train-weather-boosting": 100,
        "train-weather-forest": 40,
        "train-weather-logreg": 40,
    }


def test_committed_store_is_small() -> None:
    assert sum(len(b) for b in tree(STORE).values()) < 5 * 1024 * 1024


@pytest.mark.slow
def test_generate_reproduces_the_committed_store_byte_for_byte(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("vega_datasets")
    out = tmp_path / "store"
    subprocess.run(
        [sys.executable, str(EXAMPLE / "generate.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    fresh, committed = tree(out), tree(STORE)
    assert sorted(fresh) == sorted(committed)
    changed = [path for path in committed if fresh[path] != committed[path]]
    assert changed == [], f"regenerated files differ: {changed[:10]}"


def test_generate_refuses_a_non_empty_out_dir(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("vega_datasets")
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    for extra in ([], ["--force"]):
        result = subprocess.run(
            [sys.executable, str(EXAMPLE / "generate.py"), "--out", str(tmp_path), *extra],
            capture_output=True,
            text=True,
        )
        assert result.returncode != 0
        assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "mine"
