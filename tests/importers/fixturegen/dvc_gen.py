"""DVC fixtures: a tiny git + DVC repository with three lock states (tags v1, v2, v3).

Written to the fixture directory as ``repo.bundle`` (``git bundle --all``: the commits,
with fixed dates so the hashes are stable) and ``cache/`` (``.dvc/cache/files``, which git
does not hold). The tests clone the bundle and put the cache back in ``.dvc/cache``.

- v1: ``prepare`` (a directory out), ``train@1``/``train@2`` (foreach, with a metrics
  file), ``evaluate@train-1``/``evaluate@test-1`` (matrix), ``data/raw.csv`` via ``dvc add``.
- v2: ``train.lr`` changes: only the two train stages run again.
- v3: the raw data grows: every stage runs again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

PREPARE = """\
import os
rows = open("data/raw.csv").read().splitlines()
os.makedirs("data/prepared", exist_ok=True)
open("data/prepared/train.csv", "w").write("\\n".join(rows[:-1]) + "\\n")
open("data/prepared/test.csv", "w").write("\\n".join(rows[:1] + rows[-1:]) + "\\n")
"""

TRAIN = """\
import json, sys, yaml
seed = int(sys.argv[1])
lr = yaml.safe_load(open("params.yaml"))["train"]["lr"]
rows = len(open("data/prepared/train.csv").read().splitlines()) - 1
open(f"model-{seed}.txt", "w").write(f"lr={lr} seed={seed} rows={rows}\\n")
json.dump({"acc": round(0.5 + seed / 10 + lr, 4), "rows": rows}, open(f"metrics-{seed}.json", "w"))
"""

DVC_YAML = """\
stages:
  prepare:
    cmd: python src/prepare.py
    deps:
    - data/raw.csv
    - src/prepare.py
    params:
    - prepare.split
    outs:
    - data/prepared
  train:
    foreach: [1, 2]
    do:
      cmd: python src/train.py ${item}
      deps:
      - data/prepared
      - src/train.py
      params:
      - train.lr
      outs:
      - model-${item}.txt
      metrics:
      - metrics-${item}.json:
          cache: true
  evaluate:
    matrix:
      split: [train, test]
      k: [1]
    cmd: echo ${item.split} ${item.k} > eval-${item.split}-${item.k}.txt
    deps:
    - data/prepared
    outs:
    - eval-${item.split}-${item.k}.txt
artifacts:
  grader:
    path: model-1.txt
    type: model
    desc: The essay grader
"""


def _env(stamp: str) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "DVC_NO_ANALYTICS": "1",
    }


def _sh(repo: Path, stamp: str, *cmd: str) -> str:
    done = subprocess.run(
        cmd, cwd=repo, env=_env(stamp), check=True, capture_output=True, text=True
    )
    return done.stdout


def _dvc(repo: Path, stamp: str, *args: str) -> None:
    _sh(repo, stamp, sys.executable, "-m", "dvc", *args)


def _commit(repo: Path, stamp: str, tag: str) -> None:
    _sh(repo, stamp, "git", "add", "-A")
    _sh(repo, stamp, "git", "commit", "-q", "-m", f"state {tag}")
    _sh(repo, stamp, "git", "tag", tag)


def _write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _build(repo: Path) -> None:
    t1, t2, t3 = ("2024-05-01T09:00:00Z", "2024-05-02T09:00:00Z", "2024-05-03T09:00:00Z")
    _sh(repo, t1, "git", "init", "-q", "-b", "main")
    _dvc(repo, t1, "init", "-q")
    _dvc(repo, t1, "config", "core.analytics", "false")
    _write(repo, "params.yaml", "prepare:\n  split: 0.5\ntrain:\n  lr: 0.1\n")
    _write(repo, "src/prepare.py", PREPARE)
    _write(repo, "src/train.py", TRAIN)
    _write(repo, "dvc.yaml", DVC_YAML)
    _write(repo, "data/raw.csv", "essay,grade\nfirst,3\nsecond,4\nthird,5\n")
    _dvc(repo, t1, "add", "-q", "data/raw.csv")
    _dvc(repo, t1, "repro", "-q")
    _commit(repo, t1, "v1")
    _write(repo, "params.yaml", "prepare:\n  split: 0.5\ntrain:\n  lr: 0.05\n")
    _dvc(repo, t2, "repro", "-q")
    _commit(repo, t2, "v2")
    _write(repo, "data/raw.csv", "essay,grade\nfirst,3\nsecond,4\nthird,5\nfourth,2\n")
    _dvc(repo, t3, "add", "-q", "data/raw.csv")
    _dvc(repo, t3, "repro", "-q")
    _commit(repo, t3, "v3")


def _oracle(repo: Path) -> dict[str, Any]:
    """Each tag's dvc.lock as DVC wrote it, and the commit it names."""
    states = {}
    for tag in ("v1", "v2", "v3"):
        lock = yaml.safe_load(_sh(repo, "", "git", "show", f"{tag}:dvc.lock"))
        commit = _sh(repo, "", "git", "rev-parse", f"{tag}^{{commit}}").strip()
        states[tag] = {"commit": commit, "lock": lock}
    import dvc

    return {"dvc_version": dvc.__version__, "states": states}


def generate(work: Path, out: Path) -> dict[str, Any]:
    repo = work / "repo"
    repo.mkdir(parents=True)
    _build(repo)
    out.mkdir(parents=True, exist_ok=True)
    _sh(repo, "", "git", "bundle", "create", "-q", str(out / "repo.bundle"), "--all")
    shutil.copytree(repo / ".dvc" / "cache" / "files", out / "cache" / "files")
    return _oracle(repo)
