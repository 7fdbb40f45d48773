"""`sitegen import`: exit codes, messages, several tools into one store, no tool dependency."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.cli import main
from tests.importers.conftest import build_ok


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitegen.cli", *args], capture_output=True, text=True
    )


def test_import_prints_a_summary_then_nothing_new(
    mlflow_file: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["import", "mlflow", str(mlflow_file), "--store", str(store), "--project", "p"]) == 0
    )
    assert "5 runs (5 new" in capsys.readouterr().out
    assert main(["import", "mlflow", str(mlflow_file), "--store", str(store)]) == 0
    assert "0 events appended" in capsys.readouterr().out
    assert main(["validate", str(store)]) == 0


def test_hostile_source_exits_1_with_a_located_problem(wandb_src: Path, store: Path) -> None:
    manifest = wandb_src / "artifacts/grader/v0/wandb_manifest.json"
    manifest.write_text(
        manifest.read_text("utf-8").replace('"weights.bin"', '"../../.bashrc"'), "utf-8"
    )
    done = cli("import", "wandb", str(wandb_src), "--store", str(store))
    assert done.returncode == 1
    assert "artifacts/grader/v0/wandb_manifest.json: '../../.bashrc'" in done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr
    assert not store.exists()


def test_usage_errors_exit_2(mlflow_file: Path, store: Path, tmp_path: Path) -> None:
    assert (
        cli("import", "mlflow", str(mlflow_file), "--store", str(store), "--rev", "v1").returncode
        == 2
    )
    assert cli("import", "neptune", str(mlflow_file), "--store", str(store)).returncode == 2
    missing = cli("import", "dvc", str(tmp_path / "nope"), "--store", str(store))
    assert missing.returncode == 1 and "no such directory" in missing.stderr
    assert "import" in cli("--help").stdout


def test_three_tools_in_one_store_build(
    mlflow_sqlite: Path, wandb_src: Path, dvc_repo: Path, store: Path, tmp_path: Path
) -> None:
    for tool, src, extra in (
        ("mlflow", mlflow_sqlite, []),
        ("wandb", wandb_src, []),
        ("dvc", dvc_repo, ["--rev", "git:v1", "--rev", "git:v3"]),
    ):
        assert main(["import", tool, str(src), "--store", str(store), *extra]) == 0
    assert main(["validate", "--strict", str(store)]) == 0
    build_ok(store, tmp_path / "site")


def test_the_tools_are_not_imported(
    mlflow_file: Path, wandb_src: Path, dvc_repo: Path, tmp_path: Path
) -> None:
    code = (
        "import sys\n"
        "from sitegen.importers import read_plan\n"
        f"read_plan('mlflow', __import__('pathlib').Path({str(mlflow_file)!r}))\n"
        f"read_plan('wandb', __import__('pathlib').Path({str(wandb_src)!r}))\n"
        f"read_plan('dvc', __import__('pathlib').Path({str(dvc_repo)!r}), ['git:v3'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'mlflow', 'wandb', 'dvc', 'pandas'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
