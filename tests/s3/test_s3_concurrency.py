"""Many writer processes on one S3 collection; writers killed mid-upload leave nothing visible."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sitegen
from sitegen.cli import main
from tests.s3.conftest import S3

pytestmark = pytest.mark.s3

WRITERS = 8
VERSIONS_EACH = 6


def _writer(url: str, work: str, worker: int) -> None:
    root = Path(work) / f"w{worker}"
    root.mkdir()
    for i in range(VERSIONS_EACH):
        path = root / "data.txt"
        path.write_text(f"writer {worker} version {i}\n")
        art = sitegen.Artifact("shared", type="dataset")
        art.add_file(path)
        sitegen.Store(url, project="race", user=f"w{worker}").log_artifact(
            art, aliases=[f"w{worker}"]
        )


def test_eight_writer_processes_get_exact_versions_and_one_chain(s3: S3, tmp_path: Path) -> None:
    url = s3.url("race")
    sitegen.Store(url, project="race")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(url, str(tmp_path), w)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0
    records = sitegen.Store(url).load()
    assert [p for p in records.problems if p.severity == "error"] == []
    assert records.problems == ()
    versions = sorted(v.version for v in records.versions)
    assert versions == list(range(WRITERS * VERSIONS_EACH))  # exact: no gap, no duplicate
    assert len({v.digest for v in records.versions}) == WRITERS * VERSIONS_EACH  # none lost
    seqs = [e.seq for e in records.events]
    assert seqs == list(range(len(seqs)))
    created = [e for e in records.events if e.type == "version.created"]
    assert sorted(e.data["version"] for e in created) == versions  # one event per version
    assert set(records.state.aliases["dataset/shared"]) == {f"w{w}" for w in range(WRITERS)}
    by_writer: dict[str, list[int]] = {}
    for event in created:
        by_writer.setdefault(event.actor["user"], []).append(event.data["version"])
    assert all(len(v) == VERSIONS_EACH and v == sorted(v) for v in by_writer.values())
    assert main(["verify", url]) == 0  # re-hashes every object, re-checks the whole chain


# Each script logs one more version of dataset/data from sys.argv[2] into sys.argv[1] and
# SIGKILLs itself at a chosen point of the upload.
PRELUDE = """
import os, signal, socket, sys
from urllib.parse import urlsplit
import sitegen
from sitegen.store import s3
def die():
    os.kill(os.getpid(), signal.SIGKILL)
"""

KILL_MID_BODY = PRELUDE + textwrap.dedent(
    """
    # The object PUT goes out by hand: headers with the full Content-Length, half the body,
    # then the process dies with the connection open.
    def half_then_die(request, **_):
        if "/objects/" not in request.url or request.method != "PUT":
            return None
        url = urlsplit(request.url)
        sock = socket.create_connection((url.hostname, url.port))
        body = request.body if isinstance(request.body, bytes) else request.body.read()
        head = f"PUT {url.path}{'?' + url.query if url.query else ''} HTTP/1.1\\r\\n"
        for name, value in request.headers.items():
            value = value.decode() if isinstance(value, bytes) else value
            head += f"{name}: {value}\\r\\n"
        sock.sendall((head + f"Host: {url.netloc}\\r\\n\\r\\n").encode())
        sock.sendall(body[: len(body) // 2])
        die()
    client = s3.make_client(sys.argv[1], s3.endpoint_url())
    client.meta.events.register("before-send.s3.PutObject", half_then_die)
    art = sitegen.Artifact("data", type="dataset")
    art.add_file(sys.argv[2])
    sitegen.Store(sys.argv[1], project="p").log_artifact(art)
    """
)

KILL_AFTER_FIRST_PART = PRELUDE + textwrap.dedent(
    """
    os.environ["SITEGEN_S3_MULTIPART_THRESHOLD"] = str(5 << 20)
    client = s3.make_client(sys.argv[1], s3.endpoint_url())
    client.meta.events.register("after-call.s3.UploadPart", lambda **_: die())
    art = sitegen.Artifact("data", type="dataset")
    art.add_file(sys.argv[2])
    sitegen.Store(sys.argv[1], project="p").log_artifact(art)
    """
)

KILL_BEFORE_COMMIT = PRELUDE + textwrap.dedent(
    """
    from sitegen.store import writer
    original = writer.StoreWriter.append
    def append(self, type_, data, actor=None):
        if type_ == "version.created":
            die()
        return original(self, type_, data, actor)
    writer.StoreWriter.append = append
    art = sitegen.Artifact("data", type="dataset")
    art.add_file(sys.argv[2])
    sitegen.Store(sys.argv[1], project="p").log_artifact(art)
    """
)


def _art(path: Path) -> sitegen.Artifact:
    art = sitegen.Artifact("data", type="dataset")
    art.add_file(path)
    return art


@pytest.mark.parametrize(
    ("script", "size"),
    [(KILL_MID_BODY, 3 << 20), (KILL_AFTER_FIRST_PART, 11 << 20)],
    ids=["mid-body", "after-first-part"],
)
def test_writer_killed_mid_upload_leaves_nothing_visible(
    s3: S3, tmp_path: Path, script: str, size: int
) -> None:
    url = s3.url("killed")
    (tmp_path / "a.txt").write_text("first")
    sitegen.Store(url, project="p").log_artifact(_art(tmp_path / "a.txt"))
    before = s3.list_keys()
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (size // 256))
    proc = subprocess.run([sys.executable, "-c", script, url, str(big)], timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert s3.list_keys() == before  # not a byte of the killed upload is visible
    assert main(["validate", url]) == 0
    records = sitegen.Store(url).load()
    assert records.problems == ()
    assert [v.ref for v in records.versions] == ["dataset/data:v0"]
    again = sitegen.Store(url).log_artifact(_art(big))
    assert again.version == 1
    assert (
        sitegen.Store(url)
        .artifact("data:v1")
        .download(tmp_path / "d")
        .joinpath("big.bin")
        .read_bytes()
        == big.read_bytes()
    )
    assert main(["verify", url]) == 0


def test_writer_killed_before_commit_leaves_no_visible_version(s3: S3, tmp_path: Path) -> None:
    url = s3.url("uncommitted")
    (tmp_path / "a.txt").write_text("first")
    (tmp_path / "b.txt").write_text("second")
    sitegen.Store(url, project="p").log_artifact(_art(tmp_path / "a.txt"))
    proc = subprocess.run(
        [sys.executable, "-c", KILL_BEFORE_COMMIT, url, str(tmp_path / "b.txt")], timeout=120
    )
    assert proc.returncode == -signal.SIGKILL
    # the claimed manifest is there, but no event commits it: readers leave it out
    assert "uncommitted/artifacts/dataset/data/v1/manifest.json" in s3.list_keys()
    assert main(["validate", url]) == 0
    records = sitegen.Store(url).load()
    assert [v.ref for v in records.versions] == ["dataset/data:v0"]
    assert [p.severity for p in records.problems] == ["warning"]  # named as uncommitted
    assert sitegen.Store(url).log_artifact(_art(tmp_path / "b.txt")).version == 2
