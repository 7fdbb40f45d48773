"""The store's promises: round trip, dedup, aliases as events, a tamper-evident log."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

import sitegen
from sitegen.store.format import content_digest, event_key
from tests.helpers import log_version, make_files, small_project


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    store = small_project(tmp_path / "store", tmp_path)
    records = store.load()
    assert [p for p in records.problems if p.severity == "error"] == []
    refs = sorted(v.ref for v in records.versions)
    assert refs == ["dataset/grades:v0", "dataset/grades:v1", "model/grader:v0"]
    model = next(v for v in records.versions if v.type == "model")
    assert model.metadata == {"arch": "bert", "layers": 12}
    assert model.run == "train1"
    assert [f.path for f in model.files] == ["weights.bin"]
    train = next(r for r in records.runs if r.id == "train1")
    assert train.config == {"lr": 0.1, "opt": {"name": "adam"}}
    assert train.inputs == ("dataset/grades:v1",)
    assert train.outputs == ("model/grader:v0",)
    assert train.summary == {"loss": 0.2, "accuracy": 0.9}
    assert len(records.histories["train1"]) == 5
    assert {r.id: r.status for r in records.runs} == {
        "prep1": "finished",
        "train1": "finished",
        "broken1": "failed",
    }


def test_download_materialises_verified_files(tmp_path: Path) -> None:
    store = small_project(tmp_path / "store", tmp_path)
    out = store.artifact("dataset/grades:v0").download(tmp_path / "out")
    assert (out / "grades.csv").read_text() == "a,b\n1,2\n"


def test_identical_content_returns_existing_version(tmp_path: Path) -> None:
    first = log_version(tmp_path / "s", "data", {"a.txt": "x"}, tmp_path)
    second = log_version(tmp_path / "s", "data", {"a.txt": "x"}, tmp_path)
    third = log_version(tmp_path / "s", "data", {"a.txt": "y"}, tmp_path)
    assert (first.version, second.version, third.version) == (0, 0, 1)
    created = [
        e for e in sitegen.Store(tmp_path / "s").load().events if e.type == "version.created"
    ]
    assert len(created) == 2


def test_digest_is_over_sorted_files() -> None:
    files = {"b": {"sha256": "1" * 64, "size": 1}, "a": {"sha256": "2" * 64, "size": 2}}
    assert content_digest(files) == content_digest(dict(reversed(list(files.items()))))


def test_alias_moves_are_events_and_latest_follows(tmp_path: Path) -> None:
    log_version(tmp_path / "s", "data", {"a": "1"}, tmp_path, aliases=("production",))
    log_version(tmp_path / "s", "data", {"a": "2"}, tmp_path)
    store = sitegen.Store(tmp_path / "s")
    assert store.artifact("data:latest").version == 1
    store.set_alias("dataset/data:v1", "production")
    store.remove_alias("dataset/data", "production")
    store.set_alias("data:v0", "production")
    kinds = [
        (e.type, e.data.get("version")) for e in store.load().events if e.type.startswith("alias")
    ]
    assert kinds == [("alias.set", 0), ("alias.set", 1), ("alias.removed", None), ("alias.set", 0)]
    assert store.artifact("data:production").version == 0


def test_each_event_chains_to_the_previous(tmp_path: Path) -> None:
    store = small_project(tmp_path / "store", tmp_path)
    events = store.load().events
    assert events[0].prev is None
    assert all(b.prev == a.hash for a, b in itertools.pairwise(events))


@pytest.mark.parametrize("tamper", ["edit", "delete", "swap"])
def test_tampering_with_the_log_is_reported(tmp_path: Path, tamper: str) -> None:
    root = tmp_path / "store"
    small_project(root, tmp_path)
    third, fourth = root / event_key(3), root / event_key(4)
    if tamper == "edit":
        body = json.loads(third.read_text())
        body["actor"]["user"] = "mallory"
        third.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
    elif tamper == "delete":
        third.unlink()
    else:
        a, b = third.read_bytes(), fourth.read_bytes()
        third.write_bytes(b)
        fourth.write_bytes(a)
    problems = [p for p in sitegen.Store(root).load().problems if p.severity == "error"]
    assert problems, "tampering went unnoticed"
    assert any("events/" in p.path and p.path.endswith((".json",)) for p in problems)


def test_edited_manifest_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "store"
    small_project(root, tmp_path)
    manifest = root / "artifacts/model/grader/v0/manifest.json"
    body = json.loads(manifest.read_text())
    body["metadata"]["layers"] = 24
    manifest.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
    problems = [p for p in sitegen.Store(root).load().problems if p.severity == "error"]
    assert any(
        "differs from the one committed" in p.message and p.path.endswith("v0/manifest.json")
        for p in problems
    )


def test_version_added_by_hand_is_left_out_and_named(tmp_path: Path) -> None:
    root = tmp_path / "store"
    small_project(root, tmp_path)
    src = root / "artifacts/model/grader/v0/manifest.json"
    fake = root / "artifacts/model/grader/v7/manifest.json"
    fake.parent.mkdir()
    fake.write_text(src.read_text().replace('"version": 0', '"version": 7'))
    records = sitegen.Store(root).load()
    assert "model/grader:v7" not in {v.ref for v in records.versions}
    assert any("uncommitted version" in p.message and "v7" in p.path for p in records.problems)


def test_reference_is_recorded_without_bytes(tmp_path: Path) -> None:
    art = sitegen.Artifact("students", type="dataset")
    art.add_reference("s3://bucket/students.parquet", sha256="ab" * 32, size=123)
    version = sitegen.Store(tmp_path / "s", project="p").log_artifact(art)
    assert version.files[0].ref == "s3://bucket/students.parquet"
    assert not (tmp_path / "s" / "objects").exists()


def test_add_dir_with_prefix_and_nested_files(tmp_path: Path) -> None:
    src = make_files(tmp_path / "w", {"a.bin": "1", "sub/b.bin": "2"})
    art = sitegen.Artifact("m", type="model")
    art.add_dir(src, name="weights")
    assert sorted(art.files) == ["weights/a.bin", "weights/sub/b.bin"]
