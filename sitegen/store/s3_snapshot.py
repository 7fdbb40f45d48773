"""The read side of S3 stores for builds and audits: a point-in-time snapshot.

One listing, records fetched concurrently (bounded) and cached by ETag, objects vouched
for by S3's own SHA-256 checksum instead of being downloaded (see :mod:`sitegen.store.s3`).
"""

from __future__ import annotations

import base64
import threading
import time
from collections import Counter
from collections.abc import Iterable

from sitegen.store.cache import FetchCache
from sitegen.store.format import EVENTS, OBJECTS, SHA256_RE, object_key
from sitegen.store.s3 import Listed, S3Backend, _bounded_map
from sitegen.store.s3_client import workers

# --- the snapshot for builds -----------------------------------------------------------------


class S3Snapshot:
    """A read view of an S3 store as it was when listed: for builds, validation and sync.

    Listing: the event log first, then the rest of the store, each key once (one request a
    thousand keys). Because writers put objects before manifests and manifests before
    their ``version.created`` event, every event seen has its manifest and objects seen too.
    Every record (anything outside ``objects/``) is then read from the cache when its ETag
    is known, else fetched by a bounded thread pool. File bytes are fetched only when read.
    Writes go to the live store and are reflected in the view.
    """

    def __init__(
        self, live: S3Backend, cache: FetchCache | None, concurrency: int | None = None
    ) -> None:
        self.live = live
        self.cache = cache
        self.concurrency = concurrency or workers()
        self.fetched: Counter[str] = Counter()  # "records", "records_cached", "objects", ...
        self._lock = threading.Lock()
        self.listing = self._list()
        self._tree = _tree(self.listing)
        self._records: dict[str, bytes] = {}
        self._fingerprints: dict[str, str | None] | None = None
        self._prefetch_records()

    # --- listing and prefetch --------------------------------------------------------------

    def _list(self) -> dict[str, Listed]:
        dirs, files = self.live.top_level()
        # The log must be listed before everything else (see the class docstring); the
        # other top-level prefixes are then listed side by side.
        listing = self.live.list_tree(EVENTS) if EVENTS in dirs else {}
        others = [name for name in dirs if name != EVENTS]
        for part in _bounded_map(self.live.list_tree, others, self.concurrency):
            listing.update(part)
        listing.update(files)
        return listing

    @staticmethod
    def _is_object(key: str) -> bool:
        return key.startswith(OBJECTS + "/")

    def _prefetch_records(self) -> None:
        missing: list[str] = []
        ns = self.live.namespace
        for key, listed in sorted(self.listing.items()):
            if self._is_object(key):
                continue
            cached = self.cache.record(ns, key, listed.etag) if self.cache else None
            if cached is None:
                missing.append(key)
            else:
                self._records[key] = cached
                self.fetched["records_cached"] += 1

        def fetch(key: str) -> tuple[str, bytes | None]:
            try:
                return key, self.live.read_with_etag(key)[0]  # cached under its ETag
            except FileNotFoundError:  # deleted since it was listed
                return key, None

        gone = False
        for key, data in _bounded_map(fetch, missing, self.concurrency):
            self.fetched["records"] += 1
            if data is None:
                gone = bool(self.listing.pop(key, None)) or gone
            else:
                self._records[key] = data
        if gone:
            self._tree = _tree(self.listing)

    # --- Backend ---------------------------------------------------------------------------

    def keys(self) -> list[str]:
        return sorted(self.listing)

    def read(self, key: str) -> bytes:
        data = self._records.get(key)
        if data is not None:
            return data
        if key not in self.listing:
            raise FileNotFoundError(self.display(key))
        if self._is_object(key):
            return self._read_object(key)
        data = self.live.read(key)
        with self._lock:
            self._records[key] = data
        return data

    def _read_object(self, key: str) -> bytes:
        sha = _object_sha(key)
        etag = self.listing[key].etag
        if sha is not None and self.cache is not None:
            cached = self.cache.object(sha, etag)
            if cached is not None:
                self.fetched["objects_cached"] += 1
                return cached
        data, etag = self.live.read_with_etag(key)
        self.fetched["objects"] += 1
        if sha is not None and self.cache is not None:
            self.cache.put_object(sha, etag, data)  # only if the bytes match their name
        return data

    def exists(self, key: str) -> bool:
        if key in self.listing:
            return True
        return bool(self._tree.get(key.rstrip("/")))

    def children(self, prefix: str) -> list[str]:
        return sorted(self._tree.get(prefix.rstrip("/"), ()))

    def put(self, key: str, data: bytes) -> None:
        self.live.put(key, data)
        self._remember(key, data)

    def put_exclusive(self, key: str, data: bytes) -> bool:
        created = self.live.put_exclusive(key, data)
        if created:
            self._remember(key, data)
        return created

    def _remember(self, key: str, data: bytes) -> None:
        with self._lock:
            self.listing[key] = Listed("", len(data), time.time_ns())
            if not self._is_object(key):
                self._records[key] = data
            _add_to_tree(self._tree, key)

    def display(self, key: str) -> str:
        return self.live.display(key)

    def identity(self, key: str) -> tuple[int, int]:
        listed = self.listing.get(key)
        if listed is None:
            raise FileNotFoundError(self.display(key))
        return listed.size, listed.mtime_ns

    # --- integrity without downloads -------------------------------------------------------

    def object_fingerprint(self, sha256: str) -> str | None:
        """``"<sha256>:<size>"`` of the object stored for ``sha256``; None if it is missing.

        The object is vouched for by the SHA-256 checksum S3 verified when it was uploaded
        (``HeadObject`` with checksum mode), so no file bytes are downloaded; an object
        without a full-object SHA-256 (uploaded by another tool, or in parts) is streamed
        and hashed instead. Results are cached by ETag: a replaced object is checked again.
        """
        if self._fingerprints is None:
            self._fingerprints = self._all_fingerprints()
        return self._fingerprints.get(sha256)

    def _all_fingerprints(self) -> dict[str, str | None]:
        ns = self.live.namespace
        known = self.cache.fingerprints(ns) if self.cache else {}
        result: dict[str, str | None] = {}
        todo: list[str] = []
        for key, listed in self.listing.items():
            sha = _object_sha(key)
            if sha is None:
                continue
            cached = known.get(f"{key} {listed.etag}") if listed.etag else None
            if cached is not None:
                result[sha] = cached
            else:
                todo.append(key)

        def check(key: str) -> tuple[str, str | None]:
            try:
                head = self.live.head(key, checksum=True)
            except FileNotFoundError:
                return key, None
            checksum = str(head.get("ChecksumSHA256") or "")
            kind = str(head.get("ChecksumType") or "FULL_OBJECT")
            if checksum and "-" not in checksum and kind == "FULL_OBJECT":
                self.fetched["object_heads"] += 1
                hex_digest = base64.b64decode(checksum).hex()
                return key, f"{hex_digest}:{int(head.get('ContentLength', 0))}"
            self.fetched["objects_hashed"] += 1
            hex_digest, size = self.live.hash_remote(key)
            return key, f"{hex_digest}:{size}"

        fresh: dict[str, str] = {}
        for key, fingerprint in _bounded_map(check, todo, self.concurrency):
            sha = _object_sha(key)
            assert sha is not None
            result[sha] = fingerprint
            etag = self.listing[key].etag
            if fingerprint is not None and etag:
                fresh[f"{key} {etag}"] = fingerprint
        if self.cache is not None:
            self.cache.save_fingerprints(ns, fresh)
        return result


def _object_sha(key: str) -> str | None:
    """The sha256 an ``objects/sha256/ab/cdef…`` key names, or None for other keys."""
    if not key.startswith(OBJECTS + "/"):
        return None
    parts = key[len(OBJECTS) + 1 :].split("/")
    if len(parts) != 2:
        return None
    sha = parts[0] + parts[1]
    return sha if SHA256_RE.match(sha) and object_key(sha) == key else None


def _tree(listing: Iterable[str]) -> dict[str, set[str]]:
    """``{directory: names directly under it}`` for every directory of the listed keys."""
    tree: dict[str, set[str]] = {"": set()}
    for key in listing:
        _add_to_tree(tree, key)
    return tree


def _add_to_tree(tree: dict[str, set[str]], key: str) -> None:
    parts = key.split("/")
    for depth in range(len(parts)):
        tree.setdefault("/".join(parts[:depth]), set()).add(parts[depth])


__all__ = ["S3Snapshot"]
