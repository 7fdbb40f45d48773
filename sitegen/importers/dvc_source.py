"""Reading a DVC repository: one *state* (the working tree or a git revision) at a time.

A state gives ``dvc.yaml``, ``dvc.lock`` and ``<path>.dvc`` files, and bytes by MD5 from
the DVC cache (``.dvc/cache/files/md5/xx/…`` since DVC 3, ``.dvc/cache/xx/…`` before),
from the working tree (only for the working-tree state), or from git (outs with
``cache: false`` are committed). Every byte source is checked against the MD5 the lock
records. Git is run as ``git -C SRC …`` with revisions resolved to commit ids first, so a
revision can never be taken for an option.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.errors import SitegenError, UsageError
from sitegen.importers.common import ImportPlan, iso_from_text, safe_join
from sitegen.store.reader import parse_yaml

GIT_TIMEOUT = 60
MD5_RE = re.compile(r"^[0-9a-f]{32}(\.dir)?\Z")


def git(src: Path, *args: str) -> bytes | None:
    """stdout of ``git -C src args`` or None when git fails (missing object, not a repo)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(src), *args], capture_output=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SitegenError.single(
            str(src), f"cannot run git: {exc}", "install git to import revisions"
        ) from None
    return done.stdout if done.returncode == 0 else None


@dataclass(frozen=True)
class State:
    """One lock state: ``rev`` is a commit id, or None for the working tree."""

    src: Path
    rev: str | None
    label: str
    time: str
    prefix: str

    def read_text(self, rel: str) -> str | None:
        """A file of the DVC project at this state (rel to the project), or None."""
        if self.rev is None:
            path, why = safe_join(self.src, rel)
            return (
                path.read_text(encoding="utf-8")
                if why is None and path and path.is_file()
                else None
            )
        data = git(self.src, "show", f"{self.rev}:{self.prefix}{rel}")
        return data.decode("utf-8", errors="replace") if data is not None else None

    def read_yaml(self, rel: str, plan: ImportPlan) -> Any:
        text = self.read_text(rel)
        if text is None:
            return None
        data, problem = parse_yaml(text, f"{self.label}:{rel}")
        if problem is not None:
            plan.problems.append(problem)
        return data

    def blob(self, rel: str, md5: str) -> bytes | None:
        """The bytes of a committed or workspace file, if their MD5 is ``md5``."""
        if self.rev is None:
            path, why = safe_join(self.src, rel)
            data = path.read_bytes() if why is None and path and path.is_file() else None
        else:
            data = git(self.src, "show", f"{self.rev}:{self.prefix}{rel}")
        return (
            data
            if data is not None and hashlib.md5(data, usedforsecurity=False).hexdigest() == md5
            else None
        )


def states(src: Path, revs: list[str] | tuple[str, ...]) -> list[State]:
    """The states to import, oldest first as given; the working tree when no revision is."""
    if not revs:
        return [State(src, None, "worktree", "", "")]
    top = git(src, "rev-parse", "--show-prefix")
    if top is None:
        raise UsageError.single(
            str(src), "not inside a git repository", "--rev needs the repository's git history"
        )
    prefix = top.decode().strip()
    out = []
    for rev in revs:
        name = rev.removeprefix("git:")
        if not name or name.startswith("-"):
            raise UsageError.single("--rev", f"invalid revision {rev!r}")
        commit = git(
            src, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}"
        )
        if commit is None:
            raise UsageError.single("--rev", f"unknown git revision {name!r} in {src}")
        sha = commit.decode().strip()
        when = git(src, "show", "-s", "--format=%cI", sha)
        out.append(
            State(src, sha, f"git:{name}", iso_from_text((when or b"").decode().strip()), prefix)
        )
    return out


class Cache:
    """The DVC cache of the repository at SRC, addressed by MD5 (DVC 3 and DVC 2 layouts)."""

    def __init__(self, src: Path) -> None:
        self.root = src / ".dvc" / "cache"

    def path(self, md5: str) -> Path | None:
        if not MD5_RE.match(md5):
            return None
        for base in (self.root / "files" / "md5", self.root):
            candidate = base / md5[:2] / md5[2:]
            if candidate.is_file() and not candidate.is_symlink():
                return candidate
        return None
