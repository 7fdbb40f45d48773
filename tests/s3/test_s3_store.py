"""The store on S3: round trip through the public API, conditional claims, listing, errors."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import sitegen
from sitegen.cli import main
from sitegen.errors import SitegenError
from sitegen.store import open_backend, s3_client
from sitegen.store.s3 import S3Backend
from tests.helpers import make_files, small_project
from tests.s3.conftest import S3

pytestmark = pytest.mark.s3


def test_round_trip_through_the_public_api(s3: S3, tmp_path: Path) -> None:
    url = s3.url("team/project")
    src = make_files(tmp_path / "data", {"train.csv": "a,b\n1,2\n", "sub/test.csv": "a,b\n3,4\n"})
    with sitegen.init(store=url, project="demo", job_type="prep", id="prep1", git={}) as run:
        data = sitegen.Artifact("grades", type="dataset", description="Student *grades*")
        data.add_dir(src)
        v0 = run.log_artifact(data, aliases=["candidate"])
        run.log({"rows": 2})
    assert v0.ref == "dataset/grades:v0"
    (src / "train.csv").write_text("a,b\n1,2\n5,6\n")
    again = sitegen.Artifact("grades", type="dataset")
    again.add_dir(src)
    store = sitegen.Store(url)
    assert store.log_artifact(again).version == 1
    assert store.log_artifact(again).version == 1  # identical content: the same version
    store.set_alias("dataset/grades:v1", "production")

    reopened = sitegen.Store(url)
    records = reopened.load()
    assert records.problems == ()
    assert [v.ref for v in records.versions] == ["dataset/grades:v0", "dataset/grades:v1"]
    assert reopened.state().aliases == {"dataset/grades": {"candidate": 0, "production": 1}}
    assert [r.id for r in records.runs] == ["prep1"]
    assert reopened.artifact("grades:production").version == 1
    out = reopened.artifact("grades:candidate").download(tmp_path / "down")
    assert (out / "train.csv").read_text() == "a,b\n1,2\n"
    assert (out / "sub" / "test.csv").read_text() == "a,b\n3,4\n"

    keys = s3.list_keys()
    assert "team/project/sitegen-store.json" in keys
    assert "team/project/artifacts/dataset/grades/v1/manifest.json" in keys
    assert all(k.startswith("team/project/") for k in keys)
    assert main(["validate", url]) == 0
    assert main(["verify", url]) == 0


def test_cli_log_alias_validate(s3: S3, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = s3.url("cli")
    path = make_files(tmp_path, {"m/weights.bin": "w1"}) / "m"
    assert main(["log-artifact", str(path), "--store", url, "--name", "g", "--type", "model"]) == 0
    assert main(["alias", "set", "model/g:v0", "production", "--store", url]) == 0
    assert main(["validate", url]) == 0
    out = capsys.readouterr().out
    assert "model/g:v0" in out and "production -> model/g:v0" in out
    assert f"{url}: 1 versions" in out


def test_claims_are_conditional_puts(s3: S3, record_requests: Any) -> None:
    backend = open_backend(s3.url("claims"))
    assert isinstance(backend, S3Backend)
    headers: list[dict[str, str]] = []

    def on_put(request: Any, **_: Any) -> None:
        headers.append(dict(request.headers))

    s3.client.meta.events.register("before-send.s3.PutObject", on_put)
    try:
        assert backend.put_exclusive("events/000000000000.json", b"first") is True
        assert backend.put_exclusive("events/000000000000.json", b"second") is False
    finally:
        s3.client.meta.events.unregister("before-send.s3.PutObject", on_put)
    assert backend.read("events/000000000000.json") == b"first"
    assert [h.get("If-None-Match") for h in headers] == [b"*", b"*"]
    # the claim is one request each time, never list-then-write
    assert [op for op, _ in record_requests() if op != "GetObject"] == ["PutObject", "PutObject"]
    backend.put("runs/r/run.json", b"v1")
    backend.put("runs/r/run.json", b"v2")  # atomic replace
    assert backend.read("runs/r/run.json") == b"v2"


def test_concurrent_claims_of_one_key_have_one_winner(s3: S3) -> None:
    backend = open_backend(s3.url("race"))
    for key_no in range(20):
        key = f"events/{key_no:012d}.json"
        with ThreadPoolExecutor(8) as pool:
            won = list(
                pool.map(lambda i, k=key: backend.put_exclusive(k, f"{i}".encode()), range(8))
            )
        assert won.count(True) == 1
        assert backend.read(key) == str(won.index(True)).encode()


def test_children_lists_with_a_delimiter_and_paginates(s3: S3, record_requests: Any) -> None:
    backend = open_backend(s3.url("many"))
    names = [f"{i:012d}.json" for i in range(1005)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: backend.put(f"events/{n}", b"{}"), names))
    backend.put("events/deeper/x.json", b"{}")
    backend.put("eventsx/not-a-child.json", b"{}")
    record_requests()
    assert backend.children("events") == sorted([*names, "deeper"])
    lists = [op for op, _ in record_requests()]
    assert lists == ["ListObjectsV2", "ListObjectsV2"]  # 1,006 entries: two pages
    assert backend.children("") == ["events", "eventsx"]
    assert backend.children("nothing/here") == []
    assert backend.exists("events/000000000007.json")
    assert not backend.exists("events/999999999999.json")
    with pytest.raises(FileNotFoundError):
        backend.read("events/999999999999.json")


def test_large_objects_go_up_in_parts_and_appear_whole(
    s3: S3, monkeypatch: pytest.MonkeyPatch, record_requests: Any
) -> None:
    monkeypatch.setenv("SITEGEN_S3_MULTIPART_THRESHOLD", str(5 << 20))
    backend = open_backend(s3.url("big"))
    data = bytes(range(256)) * (11 << 12)  # 11 MiB: three parts
    assert backend.put_exclusive("objects/big", data) is True
    assert backend.put_exclusive("objects/big", data[::-1]) is False
    ops = [op for op, _ in record_requests()]
    assert ops.count("UploadPart") == 6 and ops.count("CompleteMultipartUpload") == 2
    assert ops.count("AbortMultipartUpload") == 1  # the losing claim cleans up its parts
    assert backend.read("objects/big") == data
    assert s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []


def test_bad_locations_are_problems_not_tracebacks(
    s3: S3, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SitegenError, match="does not exist"):
        sitegen.Store("s3://no-such-bucket-here/x", project="p")
    assert main(["validate", "s3://no-such-bucket-here/x"]) == 1
    assert main(["validate", s3.url("empty")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "not a sitegen store" in err
    with pytest.raises(SitegenError, match="not supported"):
        open_backend("gs://bucket/prefix")
    with pytest.raises(SitegenError, match="no query"):
        open_backend("s3://bucket/prefix?endpoint=x")


def test_missing_boto3_says_how_to_install(s3: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_client, "_BOTO", None)
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(SitegenError) as info:
        open_backend(s3.url())
    assert "pip install 'sitegen[s3]'" in str(info.value)


def test_every_store_command_takes_an_s3_url(
    s3: S3, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = s3.url("cmds")
    small_project(url, tmp_path)  # type: ignore[arg-type]
    capsys.readouterr()
    assert main(["compare", "grades:v0", "grades:v1", "--store", url]) == 0
    assert "grades" in capsys.readouterr().out
    assert main(["lineage", "grader:production", "--store", url, "--format", "json"]) == 0
    assert "train1" in capsys.readouterr().out
    assert main(["build", url, "-o", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "index.html").is_file()
    assert main(["verify", url, "--json"]) == 0
