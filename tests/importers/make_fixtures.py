"""Regenerate the importer fixtures with the REAL tools (MLflow, W&B, DVC).

The tools are not dependencies of sitegen or of its tests: run this in a throwaway venv
outside the repository, e.g. through ``scripts/make-import-fixtures.sh``::

    python -m venv /tmp/impvenv && /tmp/impvenv/bin/pip install mlflow wandb dvc
    /tmp/impvenv/bin/python tests/importers/make_fixtures.py [mlflow|wandb|dvc ...]

Outputs, under ``tests/importers/fixtures/``:

- ``mlflow-file/mlruns/``            the MLflow file store (``MLFLOW_ALLOW_FILE_STORE``)
- ``mlflow-sqlite/mlflow.db.gz``     the SQLite store (gzip of the exact file; it is
  ~1 MB of mostly empty schema pages) and ``mlflow-sqlite/mlruns/`` (its artifacts)
- ``wandb/``                         W&B run dirs, manifests, artifact cache
- ``dvc/``                           ``repo.bundle`` (git) + ``cache/`` (``.dvc/cache/files``)
- ``<tool>/expected.json``           what each tool's own API reports: the test oracle

The tools write ids, wall-clock times and absolute paths of the machine that ran them, so
regenerating changes those; contents, counts and values are fixed.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
sys.path.insert(0, str(HERE / "fixturegen"))


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def make_mlflow(work: Path) -> None:
    import mlflow_gen

    for backend in ("file", "sqlite"):
        out = FIXTURES / f"mlflow-{backend}"
        shutil.rmtree(out, ignore_errors=True)
        tmp = work / f"mlflow-{backend}"
        expected = mlflow_gen.generate(tmp, backend)
        shutil.copytree(tmp / "mlruns", out / "mlruns")
        if backend == "sqlite":
            raw = (tmp / "mlflow.db").read_bytes()
            (out / "mlflow.db.gz").write_bytes(gzip.compress(raw, mtime=0))
        _dump(out / "expected.json", expected)


def make_wandb(work: Path) -> None:
    import wandb_gen

    out = FIXTURES / "wandb"
    shutil.rmtree(out, ignore_errors=True)
    expected = wandb_gen.generate(work / "wandb", out)
    _dump(out / "expected.json", expected)


def make_dvc(work: Path) -> None:
    import dvc_gen

    out = FIXTURES / "dvc"
    shutil.rmtree(out, ignore_errors=True)
    expected = dvc_gen.generate(work / "dvc", out)
    _dump(out / "expected.json", expected)


def main(argv: list[str]) -> int:
    makers = {"mlflow": make_mlflow, "wandb": make_wandb, "dvc": make_dvc}
    chosen = argv or list(makers)
    # A fixed path, so the absolute paths the tools record are the same on every machine.
    work = Path(tempfile.gettempdir()) / "sitegen-import-fixtures"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in chosen:
        makers[name](work)
        print(f"{name}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
