"""A cold build parses on both cores: what lands in the memo must be what one core parses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sitegen import verify
from sitegen.build import BuildOptions, build
from sitegen.store import open_backend, prewarm
from sitegen.store.memo import Memo
from sitegen.store.reader import load_raw
from sitegen.store.records import Records, check_records
from tests.helpers import log_version, small_project
from tests.sitecheck import tree_bytes


@pytest.fixture
def store(tmp_path: Path) -> Path:
    small_project(tmp_path / "store", tmp_path)
    for i in range(3):
        log_version(tmp_path / "store", "grades", {"grades.csv": f"a,b\n{i},{i}\n"}, tmp_path)
    return tmp_path / "store"


@pytest.fixture(autouse=True)
def always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prewarm however few files a test store has."""
    monkeypatch.setattr(prewarm, "PARALLEL_FROM", 1)


def damage(store: Path) -> None:
    """A history with a bad line (kept, with a problem) and a manifest that does not parse."""
    history = next(store.glob("runs/*/history.jsonl"))
    history.write_text(history.read_text() + '{"_step": 9, "loss": \n', encoding="utf-8")
    manifest = store / "artifacts/dataset/grades/v1/manifest.json"
    manifest.write_text('{"type": "dataset",\n  "name": oops}\n', encoding="utf-8")


def shape(records: Records) -> tuple[object, ...]:
    """Records as plain values (memoized file lists are packed, so compare them unpacked)."""
    versions = [(v.ref, v.digest, v.metadata, tuple(v.files)) for v in records.versions]
    histories = {run: [dict(row) for row in rows] for run, rows in records.histories.items()}
    return versions, records.runs, histories, records.problems, records.history_sha256


def test_prewarmed_records_equal_records_parsed_on_one_core(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    damage(store)
    backend = open_backend(store, snapshot=True)
    memo = Memo(tmp_path / "records")
    assert prewarm.prewarm(backend, memo) == 6 + 1  # six manifests, one history
    helpers = [s for s in (tmp_path / "records").glob("seg-*.pickle")]
    assert [s.name.split("-")[1] != str(os.getpid()) for s in helpers] == [True]
    warmed = check_records(load_raw(backend, memo), memo)
    plain = check_records(load_raw(backend))
    assert shape(warmed) == shape(plain)
    hashed: list[str] = []
    real = verify.object_fingerprint
    monkeypatch.setattr(
        verify, "object_fingerprint", lambda b, sha: hashed.append(sha) or real(b, sha)
    )
    checked = verify.verify_loaded(backend, warmed, memo=memo)
    assert hashed == [], "the stored objects were hashed while prewarming"
    assert checked.versions == verify.verify_loaded(backend, plain).versions
    messages = [(p.path.rsplit("/", 2)[-1], p.line, p.message[:18]) for p in plain.problems]
    assert ("history.jsonl", 6, "invalid JSON line:") in messages
    assert ("manifest.json", 2, "invalid JSON: Expe") in messages


def test_a_helper_that_cannot_write_its_half_leaves_it_to_this_process(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prewarm, "write_segment", lambda folder, entries: None)
    backend = open_backend(store, snapshot=True)
    memo = Memo(tmp_path / "records")
    assert prewarm.prewarm(backend, memo) == 7
    assert prewarm.missing(backend, memo) == []
    assert shape(check_records(load_raw(backend, memo), memo)) == shape(
        check_records(load_raw(backend))
    )


def test_the_helpers_segment_is_kept_as_written(store: Path, tmp_path: Path) -> None:
    backend = open_backend(store, snapshot=True)
    folder = tmp_path / "records"
    memo = Memo(folder)
    prewarm.prewarm(backend, memo)
    (helper,) = folder.glob("seg-*.pickle")
    inode = helper.stat().st_ino
    check_records(load_raw(backend, memo), memo)
    memo.save()
    assert helper.stat().st_ino == inode and len(list(folder.glob("seg-*.pickle"))) == 2
    again = Memo(folder)
    assert prewarm.missing(backend, again) == []
    assert set(again) == set(memo)
    log_version(store, "grades", {"grades.csv": "a,b\n7,7\n"}, tmp_path)
    warm = open_backend(store, snapshot=True)
    assert len(prewarm.missing(warm, again)) == 1
    assert prewarm.prewarm(warm, again) == 0  # not empty: loading parses the new one


def test_a_prewarmed_cold_build_equals_a_build_without_memo(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITEGEN_BUILD_CACHE", "off")
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", str(tmp_path / "records"))
    build(BuildOptions(store, tmp_path / "warmed", jobs=2))
    segments = list((tmp_path / "records").rglob("seg-*.pickle"))
    # the parsing helper's, the build's parsing (written apart as it goes on), the rest
    assert len(segments) == 3
    assert sum(s.name.split("-")[1] != str(os.getpid()) for s in segments) == 2, "two helpers"
    assert prewarm.missing(open_backend(store, snapshot=True), Memo(segments[0].parent)) == []
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", "off")
    build(BuildOptions(store, tmp_path / "plain", jobs=2))
    assert tree_bytes(tmp_path / "warmed") == tree_bytes(tmp_path / "plain")


def test_a_big_memo_is_written_by_a_helper_and_ready_when_the_build_returns(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sitegen.build as build_module

    monkeypatch.setattr(build_module, "SAVE_APART_FROM", 1)
    monkeypatch.setattr(prewarm, "PARALLEL_FROM", 10_000)  # the build parses on its own
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", str(tmp_path / "records"))
    build(BuildOptions(store, tmp_path / "site", jobs=2))
    (segment,) = (tmp_path / "records").rglob("seg-*.pickle")
    assert segment.name.split("-")[1] != str(os.getpid()), "written by a helper"
    backend = open_backend(store, snapshot=True)
    assert prewarm.missing(backend, Memo(segment.parent)) == []


def test_a_load_on_one_core_keeps_the_histories_curves(store: Path, tmp_path: Path) -> None:
    """Without the parsing helper (one process, or a small store), a history's rows were
    checked into a plain tuple: the curves made while parsing were dropped, and every run
    and comparison page computed its series from the rows again."""
    from sitegen.store.rows import PackedRows

    backend = open_backend(store, snapshot=True)
    memo = Memo(tmp_path / "records")
    histories = check_records(load_raw(backend, memo), memo).histories
    assert histories and all(
        isinstance(rows, PackedRows) and rows.curves is not None for rows in histories.values()
    )
    assert check_records(load_raw(backend, memo), memo).histories.keys() == histories.keys()
