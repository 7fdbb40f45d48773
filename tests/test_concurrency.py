"""Many writers, killed writers: no version lost or duplicated, the store always loads."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sitegen
from sitegen.build import BuildOptions, build
from sitegen.cli import main
from sitegen.store import listing, reader

WRITERS = 8
VERSIONS_EACH = 6


def _writer(store: str, worker: int) -> None:
    work = Path(store).parent / f"w{worker}"
    work.mkdir()
    for i in range(VERSIONS_EACH):
        path = work / "data.txt"
        path.write_text(f"writer {worker} version {i}\n")
        art = sitegen.Artifact("shared", type="dataset")
        art.add_file(path)
        sitegen.Store(store, project="race").log_artifact(art, aliases=[f"w{worker}"])


def test_concurrent_writers_get_distinct_versions(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    sitegen.Store(store, project="race")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(store, w)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    records = sitegen.Store(store).load()
    assert [p for p in records.problems if p.severity == "error"] == []
    versions = sorted(v.version for v in records.versions)
    assert versions == list(range(WRITERS * VERSIONS_EACH))
    assert len({v.digest for v in records.versions}) == WRITERS * VERSIONS_EACH
    seqs = [e.seq for e in records.events]
    assert seqs == list(range(len(seqs)))
    assert set(records.state.aliases["dataset/shared"]) == {f"w{w}" for w in range(WRITERS)}


KILL_BETWEEN_MANIFEST_AND_EVENT = textwrap.dedent(
    """
    import os, signal, sys
    import sitegen
    from sitegen.store import writer

    original = writer.StoreWriter.append
    def append(self, type_, data, actor=None):
        if type_ == "version.created":
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, type_, data, actor)
    writer.StoreWriter.append = append
    art = sitegen.Artifact("data", type="dataset")
    art.add_file(sys.argv[2])
    sitegen.Store(sys.argv[1], project="p").log_artifact(art)
    """
)


def test_writer_killed_before_commit_leaves_a_valid_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (tmp_path / "a.txt").write_text("first")
    (tmp_path / "b.txt").write_text("second")
    art = sitegen.Artifact("data", type="dataset")
    art.add_file(tmp_path / "a.txt")
    sitegen.Store(store, project="p").log_artifact(art)
    proc = subprocess.run(
        [sys.executable, "-c", KILL_BETWEEN_MANIFEST_AND_EVENT, str(store), str(tmp_path / "b.txt")]
    )
    assert proc.returncode == -signal.SIGKILL
    assert (store / "artifacts/dataset/data/v1/manifest.json").exists()
    assert main(["validate", str(store)]) == 0
    records = sitegen.Store(store).load()
    assert [v.ref for v in records.versions] == ["dataset/data:v0"]
    next_version = sitegen.Store(store).log_artifact(art_for(tmp_path / "b.txt"))
    assert next_version.version == 2


def art_for(path: Path) -> sitegen.Artifact:
    art = sitegen.Artifact("data", type="dataset")
    art.add_file(path)
    return art


LOG_FOREVER = textwrap.dedent(
    """
    import sys, pathlib, sitegen
    store, work = sys.argv[1], pathlib.Path(sys.argv[2])
    i = 0
    while True:
        f = work / "f.txt"; f.write_text(f"{work.name}-{i}" * 500); i += 1
        art = sitegen.Artifact("data", type="dataset"); art.add_file(f)
        with sitegen.init(store=store, project="p", job_type="loop") as run:
            run.log({"i": i})
            run.log_artifact(art, aliases=["candidate"])
        print(i, flush=True)
    """
)


def test_sigkill_at_random_points_never_breaks_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for attempt, delay in enumerate((0.013, 0.051, 0.127)):
        work = tmp_path / f"w{attempt}"
        work.mkdir()
        proc = subprocess.Popen(
            [sys.executable, "-c", LOG_FOREVER, str(store), str(work)], stdout=subprocess.PIPE
        )
        assert proc.stdout is not None
        proc.stdout.readline()
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert main(["validate", str(store)]) == 0
    records = sitegen.Store(store).load()
    assert len(records.versions) >= 3


KILLED_INSIDE_RUN = textwrap.dedent(
    """
    import os, signal, sys, sitegen
    with sitegen.init(store=sys.argv[1], project="p", job_type="train", id="doomed") as run:
        run.log({"loss": 1.0})
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_killed_run_shows_as_crashed(tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = subprocess.run([sys.executable, "-c", KILLED_INSIDE_RUN, str(store)])
    assert proc.returncode == -signal.SIGKILL
    records = sitegen.Store(store).load()
    assert {r.id: r.status for r in records.runs} == {"doomed": "crashed"}
    assert main(["validate", str(store)]) == 0


def _committing_once(
    real: Callable[..., Any], when: Callable[..., bool], store: Path, path: Path
) -> Callable[..., Any]:
    """``real``, called after a writer commits a new version of dataset/data, the first
    time ``when(*args, **kwargs)`` holds."""
    done: list[bool] = []

    def hooked(*args: Any, **kwargs: Any) -> Any:
        if not done and when(*args, **kwargs):
            done.append(True)
            sitegen.Store(store).log_artifact(art_for(path))
        return real(*args, **kwargs)

    return hooked


def _always(*args: Any, **kwargs: Any) -> bool:
    return True


READ_MOMENTS = {  # (jobs, when the writer commits): what the build calls just after it
    (1, "before the log"): (reader, "read_events", _always),
    (1, "after the log"): (reader, "_read_artifacts", _always),
    (2, "before the log"): (listing, "list_store", lambda root, top="", skip=(): top == "events"),
    (2, "after the log"): (listing, "list_store", lambda root, top="", skip=(): top == ""),
}


@pytest.mark.parametrize(("jobs", "moment"), sorted(READ_MOMENTS))
def test_a_version_committed_while_a_build_reads_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int, moment: str
) -> None:
    """The build reads (one process) or lists (two) the event log before the manifests: a
    version committed meanwhile is in the site, or left out with a warning, never an event
    without its manifest (which fails the build)."""
    store, first, second = tmp_path / "store", tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("first")
    second.write_text("second")
    sitegen.Store(store, project="p").log_artifact(art_for(first))
    module, name, when = READ_MOMENTS[jobs, moment]
    monkeypatch.setattr(module, name, _committing_once(getattr(module, name), when, store, second))
    report = build(BuildOptions(store, tmp_path / "site", jobs=jobs))
    assert (store / "artifacts/dataset/data/v1/manifest.json").is_file(), "the writer ran"
    in_site = (tmp_path / "site/artifacts/dataset/data/v1/index.html").is_file()
    assert in_site == (moment == "before the log")
    uncommitted = [p for p in report.problems if "uncommitted version dataset/data:v1" in p.message]
    assert len(uncommitted) == (0 if in_site else 1)


def test_a_version_committed_while_a_store_is_synced_waits_for_the_next_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sync`` copies the snapshot it verified: a version committed to the source after it
    was read (here, just before its keys are listed) is left for the next sync, and the copy
    is never a log whose event lacks its manifest."""
    from sitegen.commands import sync as sync_command

    source, first, second = tmp_path / "store", tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("first")
    second.write_text("second")
    sitegen.Store(source, project="p").log_artifact(art_for(first))
    real = sync_command.list_keys
    calls: list[int] = []

    def commit_then_list(backend: Any) -> list[str]:
        if not calls:  # by a run, as a training job would: its run record is written too
            with sitegen.init(store=source, job_type="train", id="late") as run:
                run.log_artifact(art_for(second))
        calls.append(1)
        return real(backend)

    monkeypatch.setattr(sync_command, "list_keys", commit_then_list)
    report = sync_command.sync(source, tmp_path / "copy")
    assert report.ok, report.problems
    assert [v.ref for v in sitegen.Store(tmp_path / "copy").load().versions] == ["dataset/data:v0"]
    again = sync_command.sync(source, tmp_path / "copy")
    assert again.ok, again.problems
    assert len(sitegen.Store(tmp_path / "copy").load().versions) == 2


def test_a_second_build_into_the_same_folder_waits_for_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Builds into one folder take turns (their moves and seals would interleave): while
    one holds the folder, another says it waits and writes nothing; then it builds."""
    from sitegen.integrity import verify_site
    from sitegen.write import output_locked

    monkeypatch.setenv("SITEGEN_BUILD_CACHE", str(tmp_path / "cache"))
    store, out, log = tmp_path / "store", tmp_path / "site", tmp_path / "stderr.txt"
    (tmp_path / "a.txt").write_text("first")
    sitegen.Store(store, project="p").log_artifact(art_for(tmp_path / "a.txt"))
    command = "import sys; from sitegen.cli import main; sys.exit(main(sys.argv[1:]))"
    with output_locked(out, lambda: None), open(log, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", command, "build", str(store), "-o", str(out)], stderr=stderr
        )
        deadline = time.monotonic() + 60
        while b"waiting for another build" not in log.read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        time.sleep(0.2)
        assert not out.exists() and proc.poll() is None
    assert proc.wait(120) == 0, log.read_text()
    assert verify_site(out) == []
