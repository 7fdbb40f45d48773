"""Fixtures for the importer tests: copies of the committed tool outputs, store snapshots.

The fixtures under ``fixtures/`` were written by the real tools (see make_fixtures.py);
tests never need MLflow, W&B or DVC installed. Each test works on a copy in ``tmp_path``
so hostile variants can be crafted freely.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import sitegen
from sitegen.cli import main
from sitegen.importers import ImportReport, import_source

FIXTURES = Path(__file__).parent / "fixtures"


def expected(tool: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / tool / "expected.json").read_text("utf-8"))
    return data


def snapshot(store: Path) -> dict[str, bytes]:
    """Every file of a store, by relative path (temp files excluded)."""
    return {
        p.relative_to(store).as_posix(): p.read_bytes()
        for p in sorted(store.rglob("*"))
        if p.is_file() and not p.name.startswith(".tmp-")
    }


def run_import(tool: str, src: Path, store: Path, revs: tuple[str, ...] = ()) -> ImportReport:
    clock = sitegen.FixedClock("2024-06-01T00:00:00Z")
    return import_source(tool, src, store, "imported", revs, clock=clock, user="tester", host="ci")


def build_ok(store: Path, out: Path) -> None:
    assert main(["build", str(store), "-o", str(out), "-j", "1"]) == 0
    assert (out / "index.html").is_file()


@pytest.fixture
def mlflow_file(tmp_path: Path) -> Path:
    """A copy of the MLflow file store (the mlruns/ directory)."""
    return Path(shutil.copytree(FIXTURES / "mlflow-file" / "mlruns", tmp_path / "src" / "mlruns"))


@pytest.fixture
def mlflow_sqlite(tmp_path: Path) -> Path:
    """A copy of the SQLite store: mlflow.db (un-gzipped) with its mlruns/ artifacts beside it."""
    root = tmp_path / "sqlite"
    shutil.copytree(FIXTURES / "mlflow-sqlite" / "mlruns", root / "mlruns")
    (root / "mlflow.db").write_bytes(
        gzip.decompress((FIXTURES / "mlflow-sqlite" / "mlflow.db.gz").read_bytes())
    )
    return root / "mlflow.db"


@pytest.fixture
def wandb_src(tmp_path: Path) -> Path:
    return Path(
        shutil.copytree(
            FIXTURES / "wandb",
            tmp_path / "wandb-src",
            ignore=shutil.ignore_patterns("expected.json"),
        )
    )


@pytest.fixture
def dvc_repo(tmp_path: Path) -> Path:
    """The DVC repository: cloned from the bundle, with the DVC cache put back."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    subprocess.run(
        ["git", "clone", "-q", str(FIXTURES / "dvc" / "repo.bundle"), str(repo)], check=True
    )
    shutil.copytree(FIXTURES / "dvc" / "cache", repo / ".dvc" / "cache")
    return repo


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))
