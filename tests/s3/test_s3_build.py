"""Builds from S3: equal to a build from a synced copy, incremental in requests; ``sitegen sync``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import sitegen
from sitegen.build import BuildOptions, build
from sitegen.cli import main
from sitegen.store.format import object_key
from tests.helpers import make_files, small_project
from tests.s3.conftest import S3
from tests.sitecheck import tree_bytes

pytestmark = pytest.mark.s3

CLOCK = sitegen.FixedClock("2024-03-01T00:00:00Z")


@pytest.fixture(autouse=True)
def _fixed_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def _config(tmp_path: Path, publish: bool = True) -> Path:
    path = tmp_path / "sitegen.yaml"
    path.write_text(f"title: Remote demo\npublish_files: {'true' if publish else 'false'}\n")
    return path


def _project(url: str, work: Path) -> None:
    """small_project plus a second model version, so comparison pages diff file contents."""
    small_project(url, work)  # type: ignore[arg-type]
    model = sitegen.Artifact("grader", type="model", metadata={"arch": "bert", "layers": 24})
    model.add_file(make_files(work / "m2", {"config.json": '{"layers": 24}\n'}) / "config.json")
    sitegen.Store(url, clock=CLOCK, user="u", host="h").log_artifact(model, aliases=["candidate"])


def _more(url: str, work: Path, n: int) -> None:
    with sitegen.init(store=url, project="demo", job_type="prep", id=f"more{n}", clock=CLOCK,
                      user="u", host="h", git={}) as run:  # fmt: skip
        data = sitegen.Artifact("grades", type="dataset")
        data.add_file(
            make_files(work / f"more{n}", {"grades.csv": f"a,b\n{n},{n}\n"}) / "grades.csv"
        )
        run.log_artifact(data)
        run.log({"loss": 0.5})


def _build(store: str | Path, out: Path, config: Path) -> None:
    build(BuildOptions(store, out, config, jobs=1))


def test_build_from_s3_equals_build_from_synced_copy(s3: S3, tmp_path: Path) -> None:
    url = s3.url("demo")
    _project(url, tmp_path / "work")
    config = _config(tmp_path)
    assert main(["sync", url, str(tmp_path / "copy")]) == 0
    _build(url, tmp_path / "site-s3", config)
    _build(tmp_path / "copy", tmp_path / "site-local", config)
    remote, local = tree_bytes(tmp_path / "site-s3"), tree_bytes(tmp_path / "site-local")
    assert sorted(remote) == sorted(local)
    assert [p for p in remote if remote[p] != local[p]] == []
    assert any(p.startswith("files/") for p in remote)  # published bytes came from S3
    assert "compare/v0..v1.html" in " ".join(remote)
    # nothing in the site names where the store lives
    assert not [p for p, data in remote.items() if s3.bucket.encode() in data]
    assert not [p for p, data in local.items() if str(tmp_path).encode() in data]
    provenance = json.loads(remote["provenance.json"])
    assert "store" in json.dumps(provenance) and s3.bucket not in json.dumps(provenance)


def test_second_build_fetches_only_what_is_new(
    s3: S3, tmp_path: Path, record_requests: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = s3.url("incremental")
    _project(url, tmp_path / "work")
    config = _config(tmp_path)
    record_requests()
    _build(url, tmp_path / "site", config)
    first = record_requests()
    first_gets = {key for op, key in first if op == "GetObject"}
    assert len(first_gets) == len([k for op, k in first if op == "GetObject"])  # each once
    assert {op for op, _ in first} <= {"ListObjectsV2", "GetObject", "HeadObject"}

    _build(url, tmp_path / "site", config)  # nothing changed
    again = record_requests()
    assert {op for op, _ in again} == {"ListObjectsV2"}
    assert len(again) == Counter(op for op, _ in first)["ListObjectsV2"]

    before = _etags(s3)
    with monkeypatch.context() as elsewhere:  # a writer on another machine: its own cache
        elsewhere.setenv("SITEGEN_S3_CACHE", str(tmp_path / "writer-cache"))
        _more(url, tmp_path / "work", 1)
    after = _etags(s3)
    changed = {k for k, etag in after.items() if before.get(k) != etag}
    assert any(k.endswith("run.json") for k in changed)
    record_requests()
    _build(url, tmp_path / "site", config)
    third = record_requests()
    gets = [key for op, key in third if op == "GetObject"]
    heads = [key for op, key in third if op == "HeadObject"]
    assert len(gets) == len(set(gets))
    # exactly the new and changed keys: new events, manifest, run record, history and the
    # new (published) file; nothing fetched by the first build is fetched again
    assert set(gets) == changed
    assert set(heads) == {k for k in changed if "/objects/" in k}  # vouched for by checksum


def _etags(s3: S3) -> dict[str, str]:
    pages = s3.client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket)
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", ())}


def test_build_downloads_no_file_bytes_it_does_not_publish(
    s3: S3, tmp_path: Path, record_requests: Any
) -> None:
    url = s3.url("private")
    small_project(url, tmp_path / "work")  # type: ignore[arg-type]
    record_requests()
    _build(url, tmp_path / "site", _config(tmp_path, publish=False))
    requests = record_requests()
    assert [k for op, k in requests if op == "GetObject" and "/objects/" in k] == []
    objects = {k for k in s3.list_keys() if "/objects/" in k}
    assert {k for op, k in requests if op == "HeadObject"} == objects  # integrity, by checksum
    audit = (tmp_path / "site" / "audit" / "index.html").read_text()
    assert "objects" in audit


def test_tampered_object_is_caught_without_downloading_it(
    s3: S3, tmp_path: Path, record_requests: Any
) -> None:
    url = s3.url("tamper")
    small_project(url, tmp_path / "work")  # type: ignore[arg-type]
    config = _config(tmp_path, publish=False)
    _build(url, tmp_path / "site", config)
    key = next(k for k in s3.list_keys() if "/objects/" in k)
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=b"forged", ChecksumAlgorithm="SHA256")
    record_requests()
    _build(url, tmp_path / "site", config)  # a new ETag: checked again, not trusted from cache
    assert ("HeadObject", key) in record_requests()
    audit = (tmp_path / "site" / "audit" / "index.html").read_text()
    assert "corrupted" in audit
    assert main(["verify", url]) == 1


def test_sync_is_incremental_and_verifies_digests(
    s3: S3, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = s3.url("mirror")
    small_project(url, tmp_path / "work")  # type: ignore[arg-type]
    copy = tmp_path / "copy"
    assert main(["sync", url, str(copy)]) == 0
    first = capsys.readouterr().out
    assert " 0 already there" in first and ": OK" in first
    assert main(["validate", str(copy)]) == 0
    assert main(["verify", str(copy)]) == 0
    assert main(["sync", url, str(copy)]) == 0
    assert ": 0 copied" in capsys.readouterr().out

    _more(url, tmp_path / "work", 2)
    assert main(["sync", url, str(copy)]) == 0
    out = capsys.readouterr().out
    assert ": 0 copied" not in out
    assert sitegen.Store(copy).load().state.head == sitegen.Store(url).load().state.head

    # a corrupted object on S3 is reported and never written under its digest
    version = sitegen.Store(url).artifact("grades:v0")
    sha = version.files[0].sha256
    s3.client.put_object(Bucket=s3.bucket, Key=f"mirror/{object_key(sha)}", Body=b"forged")
    fresh = tmp_path / "fresh"
    assert main(["sync", url, str(fresh)]) == 1
    err = capsys.readouterr().err
    assert "do not match their sha256" in err
    assert not (fresh / object_key(sha)).exists()


def test_sync_uploads_a_local_store_to_s3(s3: S3, tmp_path: Path) -> None:
    local = tmp_path / "local"
    small_project(local, tmp_path / "work")
    url = s3.url("uploaded")
    assert main(["sync", str(local), url]) == 0
    assert main(["verify", url]) == 0
    config = _config(tmp_path)
    _build(local, tmp_path / "a", config)
    _build(url, tmp_path / "b", config)
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
    # and the uploaded store takes new versions like any other
    data = sitegen.Artifact("grades", type="dataset")
    data.add_file(make_files(tmp_path / "n", {"grades.csv": "a,b\n9,9\n"}) / "grades.csv")
    assert sitegen.Store(url).log_artifact(data).version == 2
