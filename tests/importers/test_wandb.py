"""W&B: run directories and artifact manifests written by the real wandb client."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from sitegen.errors import SitegenError
from sitegen.importers.wandb_manifest import manifest_digest
from sitegen.sdk.store import Store
from tests.importers.conftest import build_ok, expected, read_json, run_import, snapshot


def _run_dirs(src: Path) -> dict[str, Path]:
    return {
        d.name.rsplit("-", 1)[1]: d
        for d in (src / "wandb").iterdir()
        if (d / "files" / "wandb-summary.json").exists()
    }


def test_runs_match_the_plain_files(wandb_src: Path, store: Path) -> None:
    report = run_import("wandb", wandb_src, store)
    records = Store(store).load()
    dirs = _run_dirs(wandb_src)
    runs = {r.id: r for r in records.runs}
    assert sorted(runs) == sorted(dirs) == ["prep01", "train01", "train02", "train03"]
    for run_id, folder in dirs.items():
        config = yaml.safe_load((folder / "files/config.yaml").read_text("utf-8"))
        summary = read_json(folder / "files/wandb-summary.json")
        meta = read_json(folder / "files/wandb-metadata.json")
        run = runs[run_id]
        assert run.config == {k: v["value"] for k, v in config.items() if k != "_wandb"}
        assert run.summary == {k: v for k, v in summary.items() if not k.startswith("_")}
        assert run.host == meta["host"] and run.started_at.startswith(meta["startedAt"][:19])
        assert run.status == "finished"
    (skipped,) = [p for p in report.problems if p.severity == "warning"]
    assert "offline-run" in skipped.path and "run-<id>.wandb" in (skipped.hint or "")


def test_versions_files_and_digests_match(wandb_src: Path, store: Path) -> None:
    oracle = expected("wandb")
    run_import("wandb", wandb_src, store)
    handle = Store(store)
    assert sum(len(handle.versions(c)) for c in handle.collections()) == len(oracle["artifacts"])
    for art in oracle["artifacts"]:
        name, number = art["name"].split(":")
        version = handle.artifact(f"{art['type']}/{name}:{number}")
        manifest = read_json(store / f"artifacts/{art['type']}/{name}/{number}/manifest.json")
        contents = art["manifest"]["contents"]
        assert sorted(f.path for f in version.files) == sorted(contents)
        assert (
            manifest["source"]["digest"] == art["digest"] and manifest["source"]["digest_checked"]
        )
        for f in version.files:
            entry = contents[f.path]
            assert f.size == entry["size"]
            assert manifest["source"]["files"][f.path]["digest"] == entry["digest"]
            data = (
                (store / f"objects/sha256/{f.sha256[:2]}/{f.sha256[2:]}") if f.ref is None else None
            )
            if data is not None:
                raw = data.read_bytes()
                assert hashlib.sha256(raw).hexdigest() == f.sha256
                assert base64.b64encode(hashlib.md5(raw).digest()).decode() == entry["digest"]
            else:
                assert f.ref == entry["ref"]


def test_manifest_digest_is_computed_like_wandb() -> None:
    oracle = expected("wandb")
    by_collection = {}
    for art in oracle["artifacts"]:
        digests = {p: e["digest"] for p, e in art["manifest"]["contents"].items()}
        by_collection.setdefault(art["name"].split(":")[0], set()).add(manifest_digest(digests))
    for sent in oracle["client_digests"]:  # what the wandb client itself sent to the server
        assert sent["digest"] in by_collection[sent["collection"]]


def test_aliases_and_lineage(wandb_src: Path, store: Path) -> None:
    run_import("wandb", wandb_src, store)
    handle = Store(store)
    assert handle.artifact("model/grader:best").version == 1
    assert handle.artifact("model/grader:candidate").version == 1
    assert handle.artifact("dataset/essays:raw").version == 0
    runs = {r.id: r for r in handle.load().runs}
    assert runs["prep01"].outputs == ("dataset/essays:v0",)
    assert runs["train01"].inputs == ("dataset/essays:v0",)
    assert runs["train01"].outputs == ("model/grader:v0",)
    assert runs["train03"].outputs == ()  # W&B deduplicated it; logged_by stays train02


def test_reimport_is_a_no_op(wandb_src: Path, store: Path) -> None:
    run_import("wandb", wandb_src, store)
    before = snapshot(store)
    again = run_import("wandb", wandb_src, store)
    assert snapshot(store) == before
    assert (again.versions_new, again.runs_new, again.runs_updated, again.events) == (0, 0, 0, 0)


def test_grown_source_adds_only_the_new_items(wandb_src: Path, store: Path, tmp_path: Path) -> None:
    smaller = Path(shutil.copytree(wandb_src, tmp_path / "smaller"))
    shutil.rmtree(smaller / "artifacts/grader/v1")
    for run_id in ("train02", "train03"):
        shutil.rmtree(_run_dirs(smaller)[run_id])
    run_import("wandb", smaller, store)
    before = snapshot(store)
    grown = run_import("wandb", wandb_src, store)
    after = snapshot(store)
    assert {k: after[k] for k in before} == before
    assert (grown.runs_new, grown.runs_updated, grown.versions_new) == (2, 0, 1)


def test_build_works_on_the_imported_store(wandb_src: Path, store: Path, tmp_path: Path) -> None:
    run_import("wandb", wandb_src, store)
    build_ok(store, tmp_path / "site")


def _edit_manifest(src: Path, change: Any, consistent: bool = True) -> None:
    """Change the essays manifest; ``consistent`` also rewrites the recorded digest to match."""
    folder = src / "artifacts/essays/v0"
    data = json.loads((folder / "wandb_manifest.json").read_text("utf-8"))
    change(data["contents"])
    (folder / "wandb_manifest.json").write_text(json.dumps(data), "utf-8")
    if consistent:
        sidecar = json.loads((folder / "wandb_artifact.json").read_text("utf-8"))
        sidecar["digest"] = manifest_digest({p: e["digest"] for p, e in data["contents"].items()})
        (folder / "wandb_artifact.json").write_text(json.dumps(sidecar), "utf-8")


def _errors(src: Path) -> list[str]:
    with pytest.raises(SitegenError) as caught:
        run_import("wandb", src, src.parent / "hostile-store")
    assert not (src.parent / "hostile-store").exists()
    return [str(p) for p in caught.value.problems if p.severity == "error"]


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("../../.bashrc", "'..' segment"),
        ("/etc/passwd", "is absolute"),
        ("C:/Windows/win.ini", "is absolute"),
        ("data\\..\\..\\x", "backslash"),
        ("%2e%2e/%2e%2e/x", "percent-encoded"),
        ("data//x", "empty, '.' or '..' segment"),
    ],
)
def test_hostile_manifest_paths_are_rejected(wandb_src: Path, key: str, why: str) -> None:
    _edit_manifest(wandb_src, lambda c: c.__setitem__(key, dict(c["data/test.csv"])))
    errors = _errors(wandb_src)
    assert len(errors) == 1 and why in errors[0] and repr(key) in errors[0] and "hint:" in errors[0]


def test_changed_manifest_fails_the_digest_check(wandb_src: Path) -> None:
    def swap(contents: dict[str, Any]) -> None:
        contents["data/test.csv"]["digest"], contents["data/train.csv"]["digest"] = (
            contents["data/train.csv"]["digest"],
            contents["data/test.csv"]["digest"],
        )

    _edit_manifest(wandb_src, swap, consistent=False)
    errors = _errors(wandb_src)
    assert any("wandb_artifact.json records" in e for e in errors)


def test_corrupted_cache_bytes_are_rejected(wandb_src: Path) -> None:
    obj = next(p for p in (wandb_src / "cache").rglob("*") if p.is_file())
    obj.write_bytes(obj.read_bytes() + b"tampered")
    errors = _errors(wandb_src)
    assert any("does not match the manifest" in e for e in errors)


def test_symlinked_download_is_not_followed(wandb_src: Path) -> None:
    files = wandb_src / "artifacts/grader/v0/files"
    (files / "labels.csv").unlink()
    (files / "labels.csv").symlink_to("/etc/passwd")
    assert any("symbolic link" in e for e in _errors(wandb_src))
