"""Many writers, killed writers: no version lost or duplicated, the store always loads."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import sitegen
from sitegen.cli import main

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
