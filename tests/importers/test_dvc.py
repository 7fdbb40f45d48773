"""DVC: a git repository with three lock states written by the real dvc."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from sitegen.cli import main
from sitegen.errors import SitegenError, UsageError
from sitegen.sdk.store import Store
from sitegen.store.format import canonical_json
from tests.importers.conftest import build_ok, expected, run_import, snapshot

REVS = ("git:v1", "git:v2", "git:v3")


def _states() -> dict[str, Any]:
    states: dict[str, Any] = expected("dvc")["states"]
    return states


def _executions(tags: tuple[str, ...]) -> set[tuple[str, bytes]]:
    """Distinct stage executions: a stage name with its whole lock entry."""
    return {(n, canonical_json(e)) for t in tags for n, e in _states()[t]["lock"]["stages"].items()}


def _outs(tags: tuple[str, ...]) -> dict[tuple[str, str], dict[str, Any]]:
    """Distinct (path, md5) of every out, plus the data added with `dvc add` (a dep of prepare)."""
    found = {}
    for tag in tags:
        for entry in _states()[tag]["lock"]["stages"].values():
            for out in entry.get("outs", []):
                found[(out["path"], out["md5"])] = out
            for dep in entry.get("deps", []):
                if dep["path"] == "data/raw.csv":
                    found[(dep["path"], dep["md5"])] = dep
    return found


def test_runs_and_versions_match_the_locks(dvc_repo: Path, store: Path) -> None:
    run_import("dvc", dvc_repo, store, REVS)
    handle = Store(store)
    records = handle.load()
    assert len(records.runs) == len(_executions(("v1", "v2", "v3")))
    outs = _outs(("v1", "v2", "v3"))
    assert len(records.versions) == len(outs)
    for version in records.versions:
        source = version.source or {}
        out = outs[(source["path"], source["md5"])]
        if out["md5"].endswith(".dir"):
            assert len(version.files) == out["nfiles"]
        assert sum(f.size for f in version.files) == out["size"]
        for f in version.files:  # every file's bytes have the MD5 DVC recorded for them
            data = (store / f"objects/sha256/{f.sha256[:2]}/{f.sha256[2:]}").read_bytes()
            assert hashlib.sha256(data).hexdigest() == f.sha256
            if not out["md5"].endswith(".dir"):
                assert hashlib.md5(data).hexdigest() == out["md5"]


def test_lock_states_become_successive_versions(dvc_repo: Path, store: Path) -> None:
    run_import("dvc", dvc_repo, store, REVS)
    handle = Store(store)
    grader = handle.versions("model/grader")  # dvc.yaml declares model-1.txt as artifact 'grader'
    md5s = [
        json.loads((store / f"artifacts/model/grader/v{v.version}/manifest.json").read_text())[
            "source"
        ]["md5"]
        for v in grader
    ]
    lock_md5 = [
        next(
            o["md5"]
            for o in _states()[t]["lock"]["stages"]["train@1"]["outs"]
            if o["path"] == "model-1.txt"
        )
        for t in ("v1", "v2", "v3")
    ]
    assert md5s == lock_md5
    assert [v.created_at[:10] for v in grader] == ["2024-05-01", "2024-05-02", "2024-05-03"]
    assert [v.version for v in handle.versions("dvc-out/data.prepared")] == [
        0,
        1,
    ]  # unchanged in v2


def test_lineage_from_deps(dvc_repo: Path, store: Path) -> None:
    run_import("dvc", dvc_repo, store, REVS)
    runs = Store(store).load().runs
    by_name: dict[str, list[Any]] = {}
    for run in runs:
        by_name.setdefault(run.name, []).append(run)
    assert sorted(r.job_type for r in runs) == sorted(
        n.split("@")[0] for n, _ in _executions(("v1", "v2", "v3"))
    )
    first_prepare, last_prepare = sorted(by_name["prepare"], key=lambda r: r.started_at)
    assert first_prepare.inputs == ("dvc-out/data.raw.csv:v0",)
    assert first_prepare.outputs == ("dvc-out/data.prepared:v0",)
    assert last_prepare.inputs == ("dvc-out/data.raw.csv:v1",)
    for run in by_name["train@1"]:
        assert run.inputs[0].startswith("dvc-out/data.prepared:")
        assert run.summary["acc"] > 0 and "train.lr" in run.config  # metrics file -> summary
        assert run.status == "finished"


def test_reimport_and_worktree_are_no_ops(dvc_repo: Path, store: Path) -> None:
    run_import("dvc", dvc_repo, store, REVS)
    before = snapshot(store)
    assert run_import("dvc", dvc_repo, store, REVS).events == 0
    assert run_import("dvc", dvc_repo, store).events == 0  # the working tree is v3
    assert snapshot(store) == before


def test_grown_history_adds_only_the_new_items(dvc_repo: Path, store: Path) -> None:
    run_import("dvc", dvc_repo, store, REVS[:2])
    before = snapshot(store)
    grown = run_import("dvc", dvc_repo, store, REVS)
    after = snapshot(store)
    assert {k: after[k] for k in before} == before
    new_runs = _executions(("v1", "v2", "v3")) - _executions(("v1", "v2"))
    assert grown.runs_new == len(new_runs) and grown.runs_updated == 0
    assert grown.versions_new == len(set(_outs(("v1", "v2", "v3"))) - set(_outs(("v1", "v2"))))


def test_build_works_on_the_imported_store(dvc_repo: Path, store: Path, tmp_path: Path) -> None:
    run_import("dvc", dvc_repo, store, REVS)
    build_ok(store, tmp_path / "site")


@pytest.mark.parametrize("rev", ["--output=/tmp/x", "-rf", "git:", "no-such-tag"])
def test_bad_revisions_are_usage_errors(dvc_repo: Path, store: Path, rev: str) -> None:
    with pytest.raises(UsageError):
        run_import("dvc", dvc_repo, store, (rev,))
    assert main(["import", "dvc", str(dvc_repo), "--store", str(store), f"--rev={rev}"]) == 2
    assert not store.exists()


def _repo_with_lock(tmp_path: Path, outs: list[dict[str, Any]]) -> Path:
    repo = tmp_path / "hostile"
    (repo / ".dvc" / "cache").mkdir(parents=True)
    lock = {"schema": "2.0", "stages": {"make": {"cmd": "make", "outs": outs}}}
    (repo / "dvc.lock").write_text(json.dumps(lock), "utf-8")  # JSON is YAML
    (repo / "dvc.yaml").write_text("stages: {}\n", "utf-8")
    return repo


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../../.bashrc", "'..' segment"),
        ("/etc/passwd", "is absolute"),
        ("out\\..\\..\\x", "backslash"),
    ],
)
def test_hostile_out_paths_are_rejected(tmp_path: Path, path: str, why: str) -> None:
    repo = _repo_with_lock(tmp_path, [{"path": path, "md5": "0" * 32, "size": 1}])
    with pytest.raises(SitegenError) as caught:
        run_import("dvc", repo, tmp_path / "store")
    (problem,) = caught.value.problems
    assert why in str(problem) and problem.hint
    assert not (tmp_path / "store").exists()


def test_hostile_directory_listing_is_rejected(tmp_path: Path) -> None:
    listing = json.dumps([{"md5": "0" * 32, "relpath": "../../escape"}]).encode()
    md5 = hashlib.md5(listing).hexdigest() + ".dir"
    repo = _repo_with_lock(tmp_path, [{"path": "data", "md5": md5, "size": 1, "nfiles": 1}])
    target = repo / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    target.parent.mkdir(parents=True)
    target.write_bytes(listing)
    with pytest.raises(SitegenError) as caught:
        run_import("dvc", repo, tmp_path / "store")
    assert any("'..' segment" in str(p) for p in caught.value.problems)
