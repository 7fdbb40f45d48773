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


def test_the_watch_sees_what_changes_a_site_without_walking_the_store(tmp_path: Path) -> None:
    """The fingerprint serve polls each second changes with the event log, a run's history,
    a collection's description, the config beside the store and the theme it names; it does
    not list objects or manifests (immutable, and committed by an event)."""
    from sitegen.commands.serve import snapshot

    store = tmp_path / "store"
    small_project(store, tmp_path)
    theme = tmp_path / "theme"
    theme.mkdir()
    changes = {
        "a new version": lambda: log_version(store, "grades", {"g.csv": "a\n1\n"}, tmp_path),
        "a run's history": lambda: _append(store / "runs/train1/history.jsonl", "\n"),
        "a description": lambda: (store / "artifacts/model/grader/collection.yaml").write_text(
            "description: new\n"
        ),
        "a config beside the store": lambda: (tmp_path / "sitegen.yaml").write_text(
            "theme: theme\n"
        ),
        "a theme template": lambda: (theme / "base.html").write_text("{% block content %}"),
    }
    for what, change in changes.items():
        before = snapshot(store, None)
        change()
        assert snapshot(store, None) != before, what
    before = snapshot(store, None)
    (store / "objects" / "stray").write_bytes(b"not looked at")
    assert snapshot(store, None) == before


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
