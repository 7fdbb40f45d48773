"""``sitegen verify`` names every kind of tampering, and passes a clean store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sitegen.cli import main
from sitegen.store.format import event_key, object_key
from tests.helpers import small_project


@pytest.fixture
def store(tmp_path: Path) -> Path:
    small_project(tmp_path / "store", tmp_path)
    return tmp_path / "store"


def first_object(store: Path) -> tuple[Path, str]:
    manifest = json.loads((store / "artifacts/model/grader/v0/manifest.json").read_text())
    sha = manifest["files"]["weights.bin"]["sha256"]
    return store / object_key(sha), sha


def verify_output(store: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["verify", str(store)])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def test_clean_store_verifies(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify_output(store, capsys)
    assert code == 0 and "OK" in out
    assert main(["verify", str(store), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["ok"] is True and body["objects_checked"] == 3


def test_truncated_object(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = first_object(store)
    path.write_bytes(path.read_bytes()[:-1])
    code, out = verify_output(store, capsys)
    assert (
        code == 1
        and "artifacts/model/grader/v0/manifest.json" in out
        and "weights.bin" in out
        and "corrupted" in out
    )


def test_flipped_byte(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = first_object(store)
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))
    code, out = verify_output(store, capsys)
    assert code == 1 and "weights.bin" in out and "corrupted" in out


def test_missing_object(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = first_object(store)
    path.unlink()
    code, out = verify_output(store, capsys)
    assert code == 1 and "missing" in out


def test_edited_manifest(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = store / "artifacts/model/grader/v0/manifest.json"
    manifest.write_text(manifest.read_text().replace('"bert"', '"gpt"'))
    code, out = verify_output(store, capsys)
    assert code == 1 and f"{manifest}: manifest differs from the one committed" in out


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder"])
def test_event_log_tampering(store: Path, capsys: pytest.CaptureFixture[str], tamper: str) -> None:
    a, b = store / event_key(2), store / event_key(3)
    if tamper == "edit":
        a.write_text(a.read_text().replace('"u"', '"mallory"'))
    elif tamper == "delete":
        a.unlink()
    else:
        data_a, data_b = a.read_bytes(), b.read_bytes()
        a.write_bytes(data_b)
        b.write_bytes(data_a)
    code, out = verify_output(store, capsys)
    assert code == 1 and "events/0000000000" in out


def test_version_added_by_hand(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(store / "artifacts/model/grader/v0", store / "artifacts/model/grader/v1")
    code, out = verify_output(store, capsys)
    assert code == 1 and "artifacts/model/grader/v1/manifest.json" in out and "uncommitted" in out


def test_run_record_edited_after_finish(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = store / "runs/train1/run.json"
    run.write_text(run.read_text().replace('"lr": 0.1', '"lr": 0.2'))
    code, out = verify_output(store, capsys)
    assert code == 1 and f"{run}: run record was changed after the run finished" in out


def test_local_reference_is_hashed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sitegen

    data = tmp_path / "students.csv"
    data.write_text("id\n1\n")
    from sitegen.store.format import sha256_hex

    art = sitegen.Artifact("students", type="dataset")
    art.add_reference(data.as_uri(), sha256=sha256_hex(data.read_bytes()), size=data.stat().st_size)
    sitegen.Store(tmp_path / "s", project="p").log_artifact(art)
    assert verify_output(tmp_path / "s", capsys)[0] == 0
    data.write_text("id\n2\n")
    code, out = verify_output(tmp_path / "s", capsys)
    assert code == 1 and "does not match its recorded sha256" in out
