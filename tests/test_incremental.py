"""Incremental builds skip pages by input key; they must still equal a build from scratch.

Each step changes the store in one way a user would, rebuilds the same output directory
incrementally and builds a fresh site beside it: the two trees must be byte-identical. A
page whose key misses an input would stay stale in the incremental site and fail here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sitegen
from sitegen import verify
from sitegen.build import BuildOptions, build
from sitegen.errors import SitegenError
from sitegen.store.backend import LocalBackend
from sitegen.store.format import object_key
from tests.helpers import log_version, make_files, small_project
from tests.sitecheck import tree_bytes

Step = Callable[[Path, Path], None]


def new_dataset_version(store: Path, work: Path) -> None:
    log_version(store, "grades", {"grades.csv": "a,b\n9,9\n"}, work)


def move_alias(store: Path, work: Path) -> None:
    sitegen.Store(store).set_alias("dataset/grades:v0", "golden")


def run_using_old_version(store: Path, work: Path) -> None:
    with sitegen.init(store=store, job_type="eval", id="eval1", config={"k": 5}) as run:
        run.use_artifact("dataset/grades:v0")
        run.log({"accuracy": 0.91})


def retrain_with_new_metric(store: Path, work: Path) -> None:
    with sitegen.init(store=store, job_type="train", id="train2", config={"lr": 0.01}) as run:
        run.use_artifact("grades:latest")
        for step in range(3):
            run.log({"loss": 0.5 / (step + 1), "f1": 0.7 + step / 20})
        model = sitegen.Artifact("grader", type="model", metadata={"arch": "bert", "layers": 24})
        model.add_file(make_files(work / "m2", {"weights.bin": "w2"}) / "weights.bin")
        run.log_artifact(model, aliases=["production"])


def describe_collection(store: Path, work: Path) -> None:
    path = store / "artifacts/model/grader/collection.yaml"
    path.write_text("description: The *grader* model\ntags: [nlp]\n", encoding="utf-8")


STEPS: list[Step] = [
    new_dataset_version,
    move_alias,
    run_using_old_version,
    retrain_with_new_metric,
    describe_collection,
]


def forge(path: Path, old: bytes, new: bytes, mtime_step: int = 0) -> None:
    """Edit a file in place, keeping its size and (unless told) its mtime: a careful forger."""
    stat = os.stat(path)
    data = path.read_bytes()
    assert old in data and len(old) == len(new)
    path.write_bytes(data.replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + mtime_step))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    small_project(tmp_path / "store", tmp_path)
    return tmp_path / "store"


def test_incremental_builds_equal_fresh_builds_after_each_change(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    for index, step in enumerate(STEPS):
        step(store, tmp_path / f"work{index}")
        report = build(BuildOptions(store, out))
        fresh = tmp_path / f"fresh{index}"
        build(BuildOptions(store, fresh))
        assert tree_bytes(out) == tree_bytes(fresh), step.__name__
        assert report.reused > 0, step.__name__


def test_unchanged_pages_are_not_rebuilt(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    again = build(BuildOptions(store, out))
    assert again.rendered <= 8  # the overview, lists, search, lineage, audit: site-wide pages
    version_page = out / "artifacts/model/grader/v0/index.html"
    before = os.stat(version_page).st_ino
    build(BuildOptions(store, out))
    assert os.stat(version_page).st_ino == before  # linked from the previous site, not written


@pytest.mark.parametrize("mtime_step", [1, 0])
def test_a_page_edited_in_place_is_rendered_again(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mtime_step: int
) -> None:
    """Also when the forger restores the mtime: the identity cache holds the ctime too."""
    monkeypatch.setenv("SITEGEN_BUILD_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    page = out / "artifacts/model/grader/v0/index.html"
    good = page.read_bytes()
    forge(page, b"grader", b"forged", mtime_step=mtime_step)
    build(BuildOptions(store, out))
    assert page.read_bytes() == good


def test_without_the_identity_cache_pages_are_rehashed(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITEGEN_BUILD_CACHE", "off")
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    page = out / "artifacts/model/grader/v0/index.html"
    good = page.read_bytes()
    forge(page, b"grader", b"forged")  # same size and mtime
    report = build(BuildOptions(store, out))
    assert page.read_bytes() == good
    assert report.reused > 0


def test_memoized_manifests_do_not_hide_a_tampered_one(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsed manifests are reused by file identity; an edit with the old mtime is still seen."""
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", str(tmp_path / "records"))
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    assert list((tmp_path / "records").rglob("seg-*.pickle"))
    forge(store / "artifacts/model/grader/v0/manifest.json", b'"bert"', b'"BERT"')
    with pytest.raises(SitegenError, match="differs from the one committed"):
        build(BuildOptions(store, out))


def test_memoized_build_equals_an_unmemoized_one(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", str(tmp_path / "records"))
    build(BuildOptions(store, tmp_path / "first"))
    new_dataset_version(store, tmp_path / "work")
    build(BuildOptions(store, tmp_path / "memoized"))
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", "off")
    build(BuildOptions(store, tmp_path / "plain"))
    assert tree_bytes(tmp_path / "memoized") == tree_bytes(tmp_path / "plain")


def test_memoized_event_log_does_not_hide_an_edited_event(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", str(tmp_path / "records"))
    build(BuildOptions(store, tmp_path / "site"))
    forge(sorted((store / "events").iterdir())[1], b'"u"', b'"x"')
    with pytest.raises(SitegenError, match="hash chain broken"):
        build(BuildOptions(store, tmp_path / "site"))


def test_damaged_caches_only_cost_time(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Garbage in either cache is ignored: the build re-parses and re-hashes instead."""
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", str(tmp_path / "records"))
    monkeypatch.setenv("SITEGEN_BUILD_CACHE", str(tmp_path / "builds"))
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    builds = [p for p in (tmp_path / "builds").rglob("*") if p.is_file()]
    caches = [*(tmp_path / "records").rglob("seg-*.pickle"), *builds]
    assert len(caches) >= 2 and any(p.parent.name.startswith("templates-") for p in builds)
    for path in caches:
        path.write_bytes(b"\x80\x05garbage" + os.urandom(64))
    report = build(BuildOptions(store, out))
    assert report.rendered <= 8 and report.reused > 0
    build(BuildOptions(store, tmp_path / "fresh"))
    assert tree_bytes(out) == tree_bytes(tmp_path / "fresh")


def test_only_the_stores_built_last_keep_a_memo(tmp_path: Path) -> None:
    from sitegen.store.memo import prune_stores

    base = tmp_path / "records"
    for index in range(12):
        folder = base / f"store{index:02d}"
        folder.mkdir(parents=True)
        os.utime(folder, ns=(index * 10**9, index * 10**9))
    prune_stores(base / "store00", most=8)  # store00 was just built: it is the newest now
    kept = sorted(p.name for p in base.iterdir())
    assert kept == ["store00", *(f"store{i:02d}" for i in range(5, 12))]


def test_an_incremental_build_removes_what_the_site_no_longer_has(
    store: Path, tmp_path: Path
) -> None:
    config = tmp_path / "sitegen.yaml"
    config.write_text("base_url: https://example.org/site/\n", encoding="utf-8")
    out = tmp_path / "site"
    build(BuildOptions(store, out, config_path=config))
    assert (out / "sitemap.xml").is_file()
    (out / "stray.html").write_text("<p>not from the store</p>", encoding="utf-8")
    (out / "stray" / "deep").mkdir(parents=True)
    (out / "stray" / "deep" / "x.txt").write_text("x", encoding="utf-8")
    config.write_text("title: Grades\n", encoding="utf-8")
    build(BuildOptions(store, out, config_path=config))
    assert not (out / "sitemap.xml").exists() and not (out / "stray.html").exists()
    assert not (out / "stray").exists(), "folders left empty are removed"
    assert "stray" not in (out / "SHA256SUMS").read_text(encoding="utf-8")
    build(BuildOptions(store, tmp_path / "fresh", config_path=config))
    assert tree_bytes(out) == tree_bytes(tmp_path / "fresh")


@pytest.mark.parametrize("kind", ["link to a folder outside", "file"])
def test_a_rebuild_never_writes_through_what_stands_where_a_folder_was(
    store: Path, tmp_path: Path, kind: str
) -> None:
    """The previous output is not trusted: a link (or a file) put where the site has a
    folder is replaced by the folder; nothing is written where the link points."""
    import shutil

    from sitegen.integrity import verify_site

    out, outside = tmp_path / "site", tmp_path / "outside"
    build(BuildOptions(store, out))
    folder = out / "artifacts/model/grader"
    shutil.copytree(folder, outside)
    (outside / "index.html").write_text("not the site's", encoding="utf-8")  # would be replaced
    shutil.rmtree(folder)
    if kind == "file":
        folder.write_text("in the way", encoding="utf-8")
    else:
        folder.symlink_to(outside, target_is_directory=True)
    before = tree_bytes(outside)
    build(BuildOptions(store, out))
    assert tree_bytes(outside) == before, "nothing written through the link"
    assert folder.is_dir() and not folder.is_symlink()
    assert verify_site(out) == []
    build(BuildOptions(store, tmp_path / "fresh"))
    assert tree_bytes(out) == tree_bytes(tmp_path / "fresh")


def test_a_page_replaced_by_a_link_to_the_same_bytes_is_written_again(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    page = out / "artifacts/model/grader/v0/index.html"
    outside = tmp_path / "outside.html"
    outside.write_bytes(page.read_bytes())
    page.unlink()
    page.symlink_to(outside)
    build(BuildOptions(store, out))
    assert not page.is_symlink() and page.read_bytes() == outside.read_bytes()


@pytest.mark.parametrize("template", ["version.html", "index.html"])
def test_a_render_error_leaves_the_previous_site_as_it_was(
    store: Path, tmp_path: Path, template: str
) -> None:
    """index.html is rendered by the forked child that renders site-wide pages: its error
    still surfaces as the build's one clean failure."""
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    before = tree_bytes(out)
    new_dataset_version(store, tmp_path / "work")
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / template).write_text(
        f"{{% extends 'default:{template}' %}}{{% block content %}}{{{{ nope.x }}}}{{% endblock %}}"
    )
    config = tmp_path / "sitegen.yaml"
    config.write_text("theme: theme\n", encoding="utf-8")
    with pytest.raises(SitegenError, match="template"):
        build(BuildOptions(store, out, config_path=config))
    assert tree_bytes(out) == before
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_a_memo_mostly_stale_is_compacted(tmp_path: Path) -> None:
    """Files replaced (new identities) leave their old entries unused: they are dropped."""
    from sitegen.store.memo import Memo

    folder = tmp_path / "memo"
    first = Memo(folder)
    first[("manifest", "a", (1,))] = "old a"
    first[("manifest", "b", (1,))] = "old b"
    first.save()
    second = Memo(folder)
    second[("manifest", "a", (2,))] = "new a"  # both files were replaced
    second[("manifest", "b", (2,))] = "new b"
    second.save()
    assert len(list(folder.glob("seg-*.pickle"))) == 1
    segment = next(folder.glob("seg-*.pickle"))
    third = Memo(folder)
    assert sorted(third) == [("manifest", "a", (2,)), ("manifest", "b", (2,))]
    assert [third[key] for key in sorted(third)] == ["new a", "new b"]
    third.save()  # nothing new, nothing stale: nothing written
    assert list(folder.glob("seg-*.pickle")) == [segment]


def test_memo_entries_detached_are_written_apart_and_not_again(tmp_path: Path) -> None:
    """A cold build hands what it parsed to a helper (``detach_new``); its own save then
    writes only the rest, and counts nothing detached as stale (no compaction)."""
    from sitegen.store.memo import Memo

    folder = tmp_path / "memo"
    memo = Memo(folder)
    memo[("manifest", "a", (1,))] = "a"
    memo[("manifest", "b", (1,))] = "b"
    write = memo.detach_new()
    memo[("run", "r", (1,))] = "r"
    assert memo.new_count == 1 and memo[("manifest", "a", (1,))] == "a"
    early = write()
    assert early is not None
    memo.save()
    segments = sorted(folder.glob("seg-*.pickle"))
    assert len(segments) == 2 and early in segments
    again = Memo(folder)
    assert sorted(again) == [("manifest", "a", (1,)), ("manifest", "b", (1,)), ("run", "r", (1,))]
    for key in list(again):
        again[key]
    again.save()  # all read and used: nothing written, nothing compacted
    assert sorted(folder.glob("seg-*.pickle")) == segments
    assert Memo(None).detach_new()() is None


def test_memo_segments_piling_up_merge_without_rewriting_the_big_ones(tmp_path: Path) -> None:
    """Each build adds a small segment; past MAX_SEGMENTS the small ones are merged, and the
    two big ones of a first build (the helper's half and the build's, 65 MB each at 10,000
    versions) are left as they were written."""
    from sitegen.store.memo import MAX_SEGMENTS, Memo, write_segment

    folder = tmp_path / "memo"
    first = Memo(folder)
    helper = write_segment(folder, {("manifest", f"h{i}", (1,)): f"h{i}" for i in range(40)})
    assert helper is not None
    first.adopt(helper)
    for i in range(50):
        first[("manifest", f"m{i}", (1,))] = f"m{i}"
    first.save()
    bigs = {path: path.stat() for path in folder.glob("seg-*.pickle")}
    assert len(bigs) == 2
    for build_no in range(2 * MAX_SEGMENTS):
        memo = Memo(folder)
        for i in range(50):
            assert memo[("manifest", f"m{i}", (1,))] == f"m{i}"
            assert i >= 40 or memo[("manifest", f"h{i}", (1,))] == f"h{i}"
        for j in range(build_no):
            assert memo[("manifest", f"new{j}", (1,))] == f"new{j}"
        memo[("manifest", f"new{build_no}", (1,))] = f"new{build_no}"
        memo.save()
        segments = list(folder.glob("seg-*.pickle"))
        assert len(segments) <= MAX_SEGMENTS
        for big, written in bigs.items():
            assert big in segments and big.stat().st_ino == written.st_ino
            assert big.stat().st_mtime_ns == written.st_mtime_ns
    assert len(Memo(folder)) == 40 + 50 + 2 * MAX_SEGMENTS


def test_an_unreadable_memo_segment_is_compacted_away(tmp_path: Path) -> None:
    """A segment an older sitegen wrote (or a damaged one) is read on every build until
    removed: the next save compacts it away."""
    from sitegen.store.memo import Memo

    folder = tmp_path / "memo"
    first = Memo(folder)
    first[("manifest", "a", (1,))] = "a"
    first.save()
    (folder / "seg-0-old.pickle").write_bytes(b"\x80\x05garbage")
    second = Memo(folder)
    assert second[("manifest", "a", (1,))] == "a"
    second.save()
    segments = list(folder.glob("seg-*.pickle"))
    assert len(segments) == 1 and segments[0].name != "seg-0-old.pickle"
    assert dict(Memo(folder).items()) == {("manifest", "a", (1,)): "a"}


def test_memoized_object_hashes_do_not_hide_a_corrupted_object(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Object hashes are reused by file identity; bytes flipped with the old mtime are seen."""
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", str(tmp_path / "records"))
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    assert "Verified." in (out / "audit/index.html").read_text()
    calls: list[str] = []
    real = verify.object_fingerprint
    monkeypatch.setattr(
        verify, "object_fingerprint", lambda b, sha: calls.append(sha) or real(b, sha)
    )
    build(BuildOptions(store, out))
    assert calls == []  # nothing changed: no object read again
    sha = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    forge(store / object_key(sha), b"1,2", b"7,2")
    build(BuildOptions(store, out))
    assert calls == [sha]
    audit = (out / "audit/index.html").read_text()
    assert "Problems found." in audit and f"object {sha[:12]}… is corrupted" in audit


def test_memoized_run_records_do_not_hide_an_edited_finished_run(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run records are parsed (and their sealed sha256 taken) once per file identity: an
    unchanged run is not read again, and an edit with the old mtime is still seen."""
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", str(tmp_path / "records"))
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    reads: list[str] = []
    real = LocalBackend.read
    monkeypatch.setattr(LocalBackend, "read", lambda b, key: reads.append(key) or real(b, key))
    build(BuildOptions(store, out))
    assert not [key for key in reads if key.endswith("run.json")]
    forge(store / "runs/train1/run.json", b'"adam"', b'"adom"')
    build(BuildOptions(store, out))
    assert "runs/train1/run.json" in reads
    audit = (out / "audit/index.html").read_text()
    assert "Problems found." in audit and "run record was changed after the run finished" in audit
    assert "adom" in (out / "runs/train1/index.html").read_text()


def test_version_records_pickle_with_their_files_packed() -> None:
    """Memoized versions unpack their entries only when a page needs them."""
    import pickle

    from sitegen.config import load_config
    from sitegen.redact import redact
    from sitegen.store.events import replay
    from sitegen.store.files import HIDDEN_URI, FileEntry, PackedFiles
    from sitegen.store.records import Records, VersionRecord

    files = (FileEntry("a.csv", "0" * 64, 3), FileEntry("w.bin", "1" * 64, 9, "file:///w"))
    record = VersionRecord(
        "model", "m", 2, "d" * 64, "t", None, "", {"k": 1}, files, None, "disp", "e" * 64
    )
    copy = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    assert isinstance(copy.files, PackedFiles) and not copy.files.unpacked
    assert (copy.total_size, copy.has_references, copy.with_bytes) == (12, True, files)
    assert len(copy.files) == 2 and not copy.files.unpacked, "summed up without unpacking"
    assert copy == record and all(type(f) is FileEntry for f in copy.files)
    assert copy.files[1:] == files[1:] and pickle.loads(pickle.dumps(copy)) == record

    records = Records("p", "store", (copy,), (), {}, {}, (), replay(()), ())
    hidden = redact(records, load_config(None, None))[0].versions[0]
    assert isinstance(hidden.files, PackedFiles) and hidden.total_size == 12
    assert [f.ref for f in hidden.files] == [None, HIDDEN_URI]
    assert copy.files[1].ref == "file:///w", "the unredacted record keeps its URI"


def test_memo_segments_map_their_blobs_instead_of_copying_them(tmp_path: Path) -> None:
    """Packed files and history rows stay in the segment's memory map until a page unpacks
    them; a segment cut short is ignored whole, like any damaged one."""
    from sitegen.store.files import FileEntry
    from sitegen.store.memo import Memo
    from sitegen.store.records import VersionRecord
    from sitegen.store.rows import PackedRows

    files = (FileEntry("a.csv", "0" * 64, 3), FileEntry("b.csv", "1" * 64, 5))
    record = VersionRecord("dataset", "d", 1, "d" * 64, "t", None, "", {}, files, None, "", "")
    rows = PackedRows.of(({"_step": 0, "loss": 1.5}, {"_step": 1, "loss": 0.5}))
    folder = tmp_path / "memo"
    memo = Memo(folder)
    memo[("manifest", "m", (1,))] = record
    memo[("history", "h", (1,))] = rows
    memo.save()
    loaded = Memo(folder)
    copy, history = loaded[("manifest", "m", (1,))], loaded[("history", "h", (1,))]
    assert isinstance(copy.files.blob, memoryview) and isinstance(history._blob, memoryview)
    assert tuple(copy.files) == files and tuple(history) == tuple(rows)
    (segment,) = folder.glob("seg-*.pickle")
    segment.write_bytes(segment.read_bytes()[:-10])
    assert len(Memo(folder)) == 0


def test_a_history_parsed_for_the_memo_serves_its_curves_to_the_same_build(
    store: Path, tmp_path: Path
) -> None:
    """A history read afresh (not in the memo yet) reaches the build as the packed rows
    made for the memo, curves included: pages draw from those, not from the rows again."""
    from sitegen.store.memo import Memo
    from sitegen.store.reader import history_files, read_history
    from sitegen.store.rows import PackedRows

    backend = LocalBackend(store)
    key = history_files(backend)[0]
    memo = Memo(tmp_path / "memo")
    fresh = read_history(backend, key, [], memo)
    assert isinstance(fresh.data, PackedRows) and fresh.data.curves is not None
    assert fresh.sha256 and fresh.identity == backend.identity(key)
    again = read_history(backend, key, [], memo)
    assert again.memoized and again.data is fresh.data and again.sha256 == fresh.sha256


def test_memoized_histories_are_packed_and_still_redacted() -> None:
    import pickle

    from sitegen.config import SiteConfig
    from sitegen.redact import WITHHELD, redact
    from sitegen.store.events import replay
    from sitegen.store.records import Records
    from sitegen.store.rows import PackedRows

    rows = ({"_step": 0, "loss": 1.5, "api_token": "s3cret"}, {"_step": 1, "loss": 0.5})
    packed = pickle.loads(pickle.dumps(PackedRows.of(rows)))
    assert not packed.unpacked and len(packed) == 2 and packed.keys >= {"api_token", "loss"}
    assert not packed.unpacked, "length and keys without unpacking"
    assert packed == rows and packed[1] == rows[1]
    records = Records("p", "store", (), (), {"r1": packed}, {}, (), replay(()), ())
    kept = redact(records, SiteConfig(redact_keys=("*loss*",)))[0].histories["r1"]
    assert [r["loss"] for r in kept] == [WITHHELD, WITHHELD]
    assert redact(records, SiteConfig(redact_keys=("nothing",)))[0].histories["r1"] is packed


def test_memoized_histories_keep_their_curves_beside_the_rows() -> None:
    """A history that went through the memo gives its metrics and points without being
    unpacked, exactly as read from the rows (NaN, infinity, booleans and text skipped)."""
    import pickle

    from sitegen.charts import history_metrics, series
    from sitegen.model import Run
    from sitegen.store.rows import PackedRows, row_shape
    from sitegen.store.run_records import RunRecord

    rows = (
        {"_step": 0, "loss": 1.5, "acc": True, "note": "x", "lr": 3},
        {"_step": 2, "loss": float("nan"), "acc": 0.25, "lr": 1e-3},
        {"_step": 5, "loss": float("inf"), "acc": 0.5},
        {"_step": 9, "loss": -0.0, "big": 10**30},
        {"_step": 11, "only_nan": float("nan"), "cfg": {"a": 1}, "none": None, "_t": 1.0},
    )
    assert row_shape(rows) == (frozenset().union(*rows), True)
    assert row_shape(rows[:4]) == (frozenset().union(*rows[:4]), False)
    packed = pickle.loads(pickle.dumps(PackedRows.of(rows), protocol=5))
    assert packed.curves is not None and not packed.unpacked
    run = Run(RunRecord.__new__(RunRecord), packed)
    names = ("acc", "big", "loss", "lr", "only_nan")
    assert run.metric_names == tuple(history_metrics(rows)) == names
    for name in run.metric_names:
        assert run.series(name) == series(rows, name)
        assert [type(s) for s, _ in run.series(name)] == [int] * len(series(rows, name))
    assert not packed.unpacked, "curves are read without the rows"
    again = pickle.loads(pickle.dumps(packed, protocol=5))
    assert again.curves is not None and again.curves.names == packed.curves.names
    huge = pickle.loads(pickle.dumps(PackedRows.of(({"_step": 2**70, "x": 1.0},)), protocol=5))
    assert huge.curves is None
    for bad in ([{"_step": 0, "x": 1.0}, "not a row"], [{"x": 1.0}], [{"_step": True, "x": 1}]):
        assert pickle.loads(pickle.dumps(PackedRows.of(bad), protocol=5)).curves is None
    assert Run(RunRecord.__new__(RunRecord), huge).series("x") == [(2**70, 1.0)]


def test_the_event_log_is_memoized_in_chunks_and_only_the_last_is_rewritten(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen.store import open_backend, reader
    from sitegen.store.memo import Memo

    monkeypatch.setattr(reader, "LOG_CHUNK", 4)
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", str(tmp_path / "records"))
    build(BuildOptions(store, tmp_path / "site"))
    folder = next((tmp_path / "records").iterdir())
    events = len(list((store / "events").iterdir()))
    chunks = sorted(k[2][0] for k in Memo(folder) if k[0] == "log")
    assert chunks == list(range(0, events, 4))
    new_dataset_version(store, tmp_path / "work")
    grown = len(list((store / "events").iterdir()))
    memo = Memo(folder)
    _, problems = reader.read_events(open_backend(store), memo)
    rewritten = sorted(k[2][0] for k in memo._new)
    assert not problems and grown > events
    assert rewritten == list(range(events // 4 * 4, grown, 4))  # full chunks stay as they are
    forge(sorted((store / "events").iterdir())[1], b'"u"', b'"x"')
    with pytest.raises(SitegenError, match="hash chain broken"):
        build(BuildOptions(store, tmp_path / "site"))


@pytest.mark.parametrize("damage", [b"", b"\x80\x05garbage", b"{}", b"\x80\x04K\x01."])
def test_a_damaged_identity_cache_only_costs_a_rehash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes
) -> None:
    from sitegen import statcache

    monkeypatch.setenv("SITEGEN_BUILD_CACHE", str(tmp_path / "builds"))
    out = tmp_path / "site"
    statcache.save(out, {"index.html": ((1, 2, 3, 4), "ab" * 32), "gone.html": (None, "cd" * 32)})
    assert statcache.load(out) == {"index.html": ((1, 2, 3, 4), "ab" * 32)}
    path = statcache.cache_file(out)
    assert path is not None
    path.write_bytes(damage)
    assert statcache.load(out) == {}


def test_an_unchanged_collection_keeps_its_version_pages_by_one_batch_key(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a new dataset version, the model collection's batch fingerprint is the one
    recorded: its versions are kept without a key each. A batch fingerprint edited in the
    manifest only sends its collection back to one key per version."""
    import json

    from sitegen import pages

    out = tmp_path / "site"
    build(BuildOptions(store, out))
    new_dataset_version(store, tmp_path)
    keyed: list[str] = []

    def counted(base: str, collection: Any, *rest: Any) -> str:
        keyed.append(collection.ref)
        return real(base, collection, *rest)

    real = pages.version_group_key
    monkeypatch.setattr(pages, "version_group_key", counted)
    report = build(BuildOptions(store, out, jobs=1))
    assert set(keyed) == {"dataset/grades"} and report.reused > 0
    manifest = out / "sitegen-build.json"
    data = json.loads(manifest.read_text())
    assert set(data["batches"]) == {"versions:dataset/grades", "versions:model/grader"}
    data["batches"]["versions:model/grader"] = "0" * 64
    manifest.write_text(json.dumps(data))
    keyed.clear()
    again = build(BuildOptions(store, out, jobs=1))
    assert set(keyed) == {"model/grader"} and again.rendered == 0
    build(BuildOptions(store, tmp_path / "fresh"))
    assert tree_bytes(out) == tree_bytes(tmp_path / "fresh")


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_seal_covers_the_manifest_and_every_page_identity_is_recorded(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """The seal covers the build manifest's exact bytes (hashed as written, not read back),
    and the identity cache knows every page as it is in the site: a rebuild moves the pages
    it rendered into place, which changes their ctime."""
    from sitegen import statcache
    from sitegen.integrity import SUMS, verify_site
    from sitegen.write import BUILD_MANIFEST

    monkeypatch.setenv("SITEGEN_BUILD_CACHE", str(tmp_path / "builds"))
    out = tmp_path / "site"
    for step in range(2):  # a first build, then a rebuild in place after a new version
        if step:
            new_dataset_version(store, tmp_path / "work")
        report = build(BuildOptions(store, out, jobs=jobs))
        cached = statcache.load(out)
        assert len(cached) == report.pages
        assert report.rendered > 0
        for url, (identity, _) in cached.items():  # pages moved into place: there
            assert identity == statcache.identity(out / url), url
        sums = dict(line.split("  ")[::-1] for line in (out / SUMS).read_text().splitlines())
        assert (
            sums[BUILD_MANIFEST] == hashlib.sha256((out / BUILD_MANIFEST).read_bytes()).hexdigest()
        )
        assert verify_site(out) == []
