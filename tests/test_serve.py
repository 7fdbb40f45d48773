"""``sitegen serve``: serves the built site on localhost and rebuilds when the store changes."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.helpers import log_version, small_project


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
        return body


def test_serve_rebuilds_on_change(tmp_path: Path) -> None:
    store = tmp_path / "store"
    small_project(store, tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sitegen.cli",
            "serve",
            str(store),
            "-o",
            str(tmp_path / "site"),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base = None
        for _ in range(20):
            line = proc.stdout.readline()
            if match := re.search(r"serving (http://127\.0\.0\.1:\d+/)", line):
                base = match[1]
                break
        assert base is not None
        assert b"grader" in fetch(base + "index.html")
        before = fetch(base + "sitegen-build.json")
        log_version(store, "grades", {"grades.csv": "a,b\n5,6\n"}, tmp_path)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and fetch(base + "sitegen-build.json") == before:
            time.sleep(0.3)
        assert b"grades:v2" in fetch(base + "data/search.js") or b"dataset/grades:v2" in fetch(
            base + "data/search.js"
        )
    finally:
        proc.terminate()
        proc.wait(10)
