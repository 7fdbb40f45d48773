"""A local cache of what was fetched from an object store, so the next build fetches only what is new.

Three kinds of entry, each keyed so that it can never be stale:

* **records** (manifests, events, run records, histories, ``collection.yaml``) by
  ``(store, key, ETag)``: the listing gives every key's current ETag for free, so a record
  whose ETag is unchanged is served from here without a request, and a changed one (a run
  record rewritten by a live run) is fetched again. Immutable keys simply never change ETag.
* **objects** (file bytes) by their sha256 and the ETag they were fetched under: re-hashed
  on every read, and an object replaced in the bucket (a new ETag) is fetched again, so a
  forged object is seen rather than masked by the good bytes cached before.
* **fingerprints** (``sha256:size`` vouched for an object, see
  :meth:`sitegen.store.s3_snapshot.S3Snapshot.object_fingerprint`) by ``(store, key, ETag)``: an
  object replaced in the bucket gets a new ETag and is checked again.

The cache is only an optimisation: every write is atomic (temp file + rename), a corrupt or
unwritable cache degrades to fetching, and deleting the directory is always safe. Location:
``$SITEGEN_S3_CACHE``, else ``$XDG_CACHE_HOME/sitegen/s3``, else ``~/.cache/sitegen/s3``;
``SITEGEN_S3_CACHE=off`` disables it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path

from sitegen.cachedir import cache_home
from sitegen.store.format import SHA256_RE

CACHE_ENV = "SITEGEN_S3_CACHE"
DISABLED = frozenset({"off", "0", "none", "false", "no"})
_MD5_ETAG = re.compile(r'^"?([0-9a-f]{32})"?$')


def default_cache_dir() -> Path | None:
    """Where fetched store data is cached, or None when caching is switched off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        if configured.strip().lower() in DISABLED or not configured.strip():
            return None
        return Path(configured).expanduser()
    base = cache_home()
    return base / "sitegen" / "s3" if base else None


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def etag_matches(data: bytes, etag: str) -> bool:
    """Whether ``data`` fits ``etag``: single-part S3 ETags are the MD5 of the bytes.

    Other ETags (multipart uploads, encrypted objects, other servers) cannot be checked
    and count as a match; the entry was written atomically under that ETag.
    """
    match = _MD5_ETAG.match(etag)
    if match is None:
        return True
    return hashlib.md5(data, usedforsecurity=False).hexdigest() == match.group(1)


class FetchCache:
    """Records by ETag, objects by sha256, fingerprints by ETag, under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def default(cls) -> FetchCache | None:
        root = default_cache_dir()
        return None if root is None else cls(root)

    # --- records ------------------------------------------------------------------------

    def _record_path(self, namespace: str, key: str, etag: str) -> Path:
        name = _digest(namespace, key, etag)
        return self.root / "records" / name[:2] / name

    def record(self, namespace: str, key: str, etag: str) -> bytes | None:
        """The bytes of ``key`` as they were at ``etag``, or None."""
        if not etag:
            return None
        try:
            data = self._record_path(namespace, key, etag).read_bytes()
        except OSError:
            return None
        return data if etag_matches(data, etag) else None

    def has_record(self, namespace: str, key: str, etag: str) -> bool:
        return bool(etag) and self._record_path(namespace, key, etag).is_file()

    def put_record(self, namespace: str, key: str, etag: str, data: bytes) -> None:
        if etag and etag_matches(data, etag):
            self._write(self._record_path(namespace, key, etag), data)

    # --- objects ------------------------------------------------------------------------

    def _object_path(self, sha256: str, etag: str) -> Path:
        return self.root / "objects" / sha256[:2] / f"{sha256[2:]}-{_digest(etag)[:16]}"

    def object(self, sha256: str, etag: str) -> bytes | None:
        """File bytes whose sha256 is ``sha256`` (re-hashed), fetched under ``etag``, or None."""
        if not SHA256_RE.match(sha256) or not etag:
            return None
        try:
            data = self._object_path(sha256, etag).read_bytes()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == sha256 else None

    def put_object(self, sha256: str, etag: str, data: bytes) -> None:
        if SHA256_RE.match(sha256) and etag and hashlib.sha256(data).hexdigest() == sha256:
            self._write(self._object_path(sha256, etag), data)

    # --- fingerprints -------------------------------------------------------------------

    def _fingerprints_path(self, namespace: str) -> Path:
        return self.root / "fingerprints" / f"{_digest(namespace)}.json"

    def fingerprints(self, namespace: str) -> dict[str, str]:
        """``{"<key> <etag>": "<sha256>:<size>"}`` vouched for earlier in this store."""
        try:
            body = json.loads(self._fingerprints_path(namespace).read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(body, dict):
            return {}
        return {k: v for k, v in body.items() if isinstance(k, str) and isinstance(v, str)}

    def save_fingerprints(self, namespace: str, new: Mapping[str, str]) -> None:
        if not new:
            return
        merged = {**self.fingerprints(namespace), **new}
        data = json.dumps(merged, sort_keys=True, separators=(",", ":")).encode("utf-8")
        self._write(self._fingerprints_path(namespace), data)

    # --- plumbing -----------------------------------------------------------------------

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        """Atomic write; a cache that cannot be written is silently not used."""
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.parent / f".tmp-{uuid.uuid4().hex}"
            try:
                tmp.write_bytes(data)
                os.replace(tmp, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()


__all__ = ["CACHE_ENV", "FetchCache", "default_cache_dir", "etag_matches"]
