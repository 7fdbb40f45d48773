"""Where ``sitegen diff`` gets its two stores: a directory, or ``git:REV:PATH``.

``git:REV:PATH`` is the store as committed at a git revision. It is copied into a
temporary directory from git's object database (``git ls-tree`` + ``git cat-file
--batch``: exact committed bytes, no checkout, no smudge filters, the working tree is
never touched). Only the records a diff reads are copied -- the root file, manifests,
collection files, run records and the event log -- not file bytes (``objects/``) or
metric histories. The I/O end of ``diff``; everything after loading is pure.
"""

from __future__ import annotations

import dataclasses
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sitegen.config import SiteConfig
from sitegen.errors import SitegenError
from sitegen.model import Project, build_model
from sitegen.redact import redact
from sitegen.store import open_backend
from sitegen.store.format import OBJECTS, ROOT_KEY
from sitegen.store.reader import load_raw
from sitegen.store.records import check_records

GIT_PREFIX = "git:"
FETCH_HINT = (
    "fetch it first, e.g. `git fetch origin main`; in GitHub Actions check out with "
    "`fetch-depth: 0`"
)


@dataclass(frozen=True)
class GitSource:
    """``git:REV:PATH``; PATH is relative to the current directory (default ``.``)."""

    text: str
    rev: str
    path: str


def parse_source(text: str) -> GitSource | None:
    """The git source ``text`` names, or None for a plain directory."""
    if not text.startswith(GIT_PREFIX):
        return None
    rev, sep, path = text[len(GIT_PREFIX) :].partition(":")
    if not rev or rev.startswith("-"):
        raise SitegenError.single(
            text, "expected git:REV:PATH with a revision", "e.g. git:origin/main:store"
        )
    if not sep:
        raise SitegenError.single(
            text,
            "expected git:REV:PATH: the store path is missing",
            f"e.g. git:{rev}:store (relative to the current directory)",
        )
    return GitSource(text, rev, path.strip("/") or ".")


def _git(source: GitSource, cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False
        )
    except OSError as exc:
        raise SitegenError.single(
            source.text, f"cannot run git: {exc}", "install git, or pass a store directory"
        ) from None
    if done.returncode != 0:
        raise _GitFailed(done.stderr.decode("utf-8", "replace").strip())
    return done.stdout


class _GitFailed(Exception):
    pass


def _treeish(source: GitSource, cwd: Path) -> str:
    """``<commit>:<path from repo root>`` after checking the revision and the path."""
    try:
        prefix = _git(source, cwd, "rev-parse", "--show-prefix").decode().strip()
    except _GitFailed as exc:
        raise SitegenError.single(
            source.text, "not inside a git repository", f"run it from the repository ({exc})"
        ) from None
    try:
        commit = _git(source, cwd, "rev-parse", "--verify", "--quiet", f"{source.rev}^{{commit}}")
    except _GitFailed:
        raise SitegenError.single(
            source.text, f"unknown git revision {source.rev!r}", FETCH_HINT
        ) from None
    path = PurePosixPath(prefix) / source.path
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                raise SitegenError.single(source.text, "the path leaves the repository")
            parts.pop()
        elif part != ".":
            parts.append(part)
    return f"{commit.decode().strip()}:{'/'.join(parts)}"


def _check_tree(source: GitSource, cwd: Path, treeish: str) -> None:
    try:
        kind = _git(source, cwd, "cat-file", "-t", treeish).decode().strip()
    except _GitFailed:
        raise SitegenError.single(
            source.text,
            f"{source.path!r} does not exist at {source.rev}",
            "the path is relative to the current directory; list what is there with "
            f"`git ls-tree --name-only {source.rev}`",
        ) from None
    if kind != "tree":
        raise SitegenError.single(
            source.text, f"{source.path!r} at {source.rev} is not a directory"
        )
    try:
        _git(source, cwd, "cat-file", "-e", child(treeish, ROOT_KEY))
    except _GitFailed:
        raise SitegenError.single(
            source.text,
            f"{source.path!r} at {source.rev} is not a sitegen store (no {ROOT_KEY})",
            "point PATH at the store directory",
        ) from None


def child(treeish: str, name: str) -> str:
    """``REV:dir`` + ``name`` -> ``REV:dir/name`` (``REV:`` is the root tree)."""
    commit, _, path = treeish.partition(":")
    return f"{commit}:{path}/{name}" if path else f"{commit}:{name}"


def wanted(path: str) -> bool:
    """Record files a diff reads; file bytes and metric histories are left behind."""
    return not path.startswith(f"{OBJECTS.split('/')[0]}/") and not path.endswith("/history.jsonl")


def _list_blobs(source: GitSource, cwd: Path, treeish: str) -> dict[str, str]:
    out = _git(source, cwd, "ls-tree", "-r", "-z", "--full-tree", treeish)
    blobs: dict[str, str] = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        mode, kind, sha = meta.decode().split(" ")
        path = name.decode("utf-8", "surrogateescape")
        if kind == "blob" and mode != "120000" and wanted(path) and _safe(path):
            blobs[path] = sha
    return blobs


def _safe(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and ".." not in parts and "\\" not in path


def _read_batch(data: bytes) -> dict[str, bytes]:
    """Parse ``git cat-file --batch`` output: ``<sha> <type> <size>\\n<bytes>\\n`` repeated."""
    contents: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        fields = data[pos:end].decode().split(" ")
        pos = end + 1
        if len(fields) != 3:
            continue  # "<sha> missing"
        length = int(fields[2])
        contents[fields[0]] = data[pos : pos + length]
        pos += length + 1
    return contents


def materialise(source: GitSource, dest: Path, cwd: Path | None = None) -> Path:
    """Copy the store's records at ``source.rev`` into ``dest``; returns ``dest``."""
    here = cwd or Path.cwd()
    treeish = _treeish(source, here)
    _check_tree(source, here, treeish)
    try:
        blobs = _list_blobs(source, here, treeish)
        batch = "".join(f"{sha}\n" for sha in sorted(set(blobs.values()))).encode()
        contents = _read_batch(_git(source, here, "cat-file", "--batch", stdin=batch))
    except _GitFailed as exc:
        raise SitegenError.single(source.text, f"git failed: {exc}") from None
    for path, sha in sorted(blobs.items()):
        target = dest.joinpath(*PurePosixPath(path).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(contents.get(sha, b""))
    dest.mkdir(parents=True, exist_ok=True)
    return dest


def resolve_store(text: str, workdir: Path, cwd: Path | None = None) -> Path:
    """A local directory holding the store ``text`` names (copied there for ``git:``)."""
    source = parse_source(text)
    if source is None:
        return Path(text)
    return materialise(source, workdir, cwd)


def load_project(path: Path, config: SiteConfig, label: str) -> Project:
    """Load, check, redact (as the site does) and model a store; problems stay in the model."""
    records = check_records(load_raw(open_backend(path)))
    visible, withheld = redact(records, config)
    project = build_model(visible, config, withheld)
    prefix = str(path)
    problems = tuple(
        dataclasses.replace(p, path=label + p.path[len(prefix) :])
        if p.path.startswith(prefix)
        else p
        for p in project.problems
    )
    return dataclasses.replace(project, problems=problems)
