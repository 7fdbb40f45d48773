"""The CLI: exit codes 0/1/2, messages with hints, and no tracebacks for user errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen import __version__
from sitegen.cli import main
from tests.helpers import make_files, small_project


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitegen.cli", *args], capture_output=True, text=True
    )


def test_version_and_help() -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and __version__ in out.stdout
    helped = run_cli("--help")
    for command in ("build", "validate", "log-artifact", "alias", "assets"):
        assert command in helped.stdout


def test_usage_errors_exit_2() -> None:
    assert run_cli().returncode == 2
    assert run_cli("frobnicate").returncode == 2
    assert run_cli("log-artifact", "x").returncode == 2


def test_log_artifact_alias_and_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_files(tmp_path / "model", {"w.bin": "1", "cfg/c.json": "{}"})
    store = str(tmp_path / "store")
    args = ["log-artifact", str(src), "--store", store, "--name", "essay-grader", "--type", "model"]
    assert main([*args, "--alias", "candidate", "--metadata", "arch=bert"]) == 0
    assert "model/essay-grader:v0" in capsys.readouterr().out
    assert main(args) == 0
    assert "unchanged" in capsys.readouterr().out
    assert main(["alias", "set", "model/essay-grader:v0", "production", "--store", store]) == 0
    assert "production -> model/essay-grader:v0" in capsys.readouterr().out
    assert main(["alias", "rm", "model/essay-grader", "production", "--store", store]) == 0
    assert main(["validate", store]) == 0


def test_input_nested_past_every_check_is_an_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Store files are checked for nesting where they are read; anything else (an
    importer's source files) that recurses past Python's limit still ends in one clean
    error, exit 1."""
    import sitegen.commands.validate as validate

    monkeypatch.setattr(validate, "run", lambda args: json.loads("[" * 10**5 + "]" * 10**5))
    assert main(["validate", "store"]) == 1
    err = capsys.readouterr().err
    assert "input nested too deeply to process" in err and "at most 100 levels" in err
    assert "Traceback" not in err


def test_user_errors_exit_1_with_hint(tmp_path: Path) -> None:
    small_project(tmp_path / "store", tmp_path)
    bad_alias = run_cli("alias", "set", "grades:v0", "latest", "--store", str(tmp_path / "store"))
    assert bad_alias.returncode == 1
    assert "reserved" in bad_alias.stderr and "Traceback" not in bad_alias.stderr
    bad_meta = run_cli(
        "log-artifact",
        str(tmp_path),
        "--store",
        str(tmp_path / "s2"),
        "--name",
        "x",
        "--type",
        "model",
        "--metadata",
        "novalue",
    )
    assert bad_meta.returncode == 2 and "KEY=VALUE" in bad_meta.stderr
    bad_name = run_cli(
        "log-artifact",
        str(tmp_path),
        "--store",
        str(tmp_path / "s3"),
        "--name",
        "../x",
        "--type",
        "model",
    )
    assert bad_name.returncode == 1 and "invalid artifact name" in bad_name.stderr
