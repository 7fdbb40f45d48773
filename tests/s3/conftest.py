"""Fixtures for S3 tests: a moto S3 server on 127.0.0.1 (random port), a bucket per test.

The server runs in a subprocess (``moto_server.py`` beside this file) for the whole
session; every test gets its own bucket, its own fetch cache and AWS settings that point
at the server only (no other network). Without moto installed the tests are skipped,
except under ``CI``, where that is a failure: ``.ci/run`` installs ``.[dev]``, which
includes ``moto[server]``.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
_BUCKETS = itertools.count()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
        import werkzeug  # noqa: F401
    except ImportError as exc:
        if _in_ci():
            pytest.fail(f"moto[server] is not installed ({exc}); CI must run the S3 tests")
        pytest.skip(f"moto[server] is not installed: {exc}")
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "moto_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        pytest.fail(f"moto server did not start: {line!r}")
    try:
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class S3:
    endpoint: str
    bucket: str
    client: Any

    def url(self, prefix: str = "store") -> str:
        return f"s3://{self.bucket}/{prefix}"

    def list_keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        return sorted(o["Key"] for page in pages for o in page.get("Contents", ()))


@pytest.fixture
def s3(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> S3:
    """A fresh bucket; the environment points sitegen (and subprocesses) at the test server."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SITEGEN_S3_ENDPOINT", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("SITEGEN_S3_CACHE", str(tmp_path / "s3-cache"))
    from sitegen.store import s3 as s3_module

    client = s3_module.make_client("s3://test", s3_endpoint)
    bucket = f"test-{os.getpid()}-{next(_BUCKETS)}"
    client.create_bucket(Bucket=bucket)
    return S3(s3_endpoint, bucket, client)


@pytest.fixture
def record_requests(s3: S3) -> Iterator[Callable[[], list[tuple[str, str]]]]:
    """Record (operation, key) of every request this process sends: ``take()`` returns and resets."""
    from urllib.parse import unquote, urlsplit

    seen: list[tuple[str, str]] = []

    def on_send(request: Any, event_name: str = "", **_: Any) -> None:
        path = unquote(urlsplit(request.url).path).lstrip("/")
        key = path.split("/", 1)[1] if "/" in path else ""
        seen.append((event_name.rsplit(".", 1)[-1], key))

    s3.client.meta.events.register("before-send.s3", on_send)

    def take() -> list[tuple[str, str]]:
        out = list(seen)
        seen.clear()
        return out

    yield take
    s3.client.meta.events.unregister("before-send.s3", on_send)
