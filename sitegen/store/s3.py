"""Stores on S3-compatible object storage: ``s3://bucket/prefix``.

:class:`S3Backend` gives the two guarantees of :mod:`sitegen.store.backend` with plain S3
requests, so many writers on many machines can share one store:

* :meth:`S3Backend.put` is one ``PutObject``: S3 replaces an object atomically, readers
  see the old bytes or the new ones, never a mix.
* :meth:`S3Backend.put_exclusive` is ``PutObject`` with ``If-None-Match: *`` (or a
  multipart upload completed with it): the object appears whole, and only if no object has
  that key. Version and event numbers are claimed this way, never by list-then-write.
  A writer killed mid-upload leaves nothing visible: S3 creates an object only when its
  upload completes.

Every upload carries a SHA-256 checksum that S3 verifies before accepting the bytes and
returns on ``HeadObject``; :class:`~sitegen.store.s3_snapshot.S3Snapshot` uses it to vouch for stored objects
without downloading them.

:class:`~sitegen.store.s3_snapshot.S3Snapshot` is the read side for builds and audits: a point-in-time view that
lists the store once, fetches every record concurrently (bounded), serves what it fetched
before from :class:`sitegen.store.cache.FetchCache`, and never downloads file bytes
unless they are read (published files, content diffs).

boto3 is imported lazily (``pip install sitegen[s3]``); credentials, region and endpoint
come from the usual AWS environment and config files, ``SITEGEN_S3_ENDPOINT`` overrides
the endpoint for S3-compatible servers (MinIO, R2, Ceph, moto, ...).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sitegen.errors import SitegenError
from sitegen.store.cache import FetchCache
from sitegen.store.format import OBJECTS
from sitegen.store.s3_client import (
    ENDPOINT_ENV,
    REQUESTS,
    endpoint_url,
    load_boto,
    make_client,
    parse_s3_url,
    request_count,
    workers,
)

MULTIPART_ENV = "SITEGEN_S3_MULTIPART_THRESHOLD"
DEFAULT_MULTIPART_THRESHOLD = 64 << 20
MIN_PART_SIZE = 5 << 20  # S3's minimum for every part but the last
CONFLICT_RETRIES = 8

NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
PRECONDITION_FAILED = frozenset({"PreconditionFailed", "412"})
CONFLICT = frozenset({"ConditionalRequestConflict", "409", "OperationAborted"})

T = TypeVar("T")

if TYPE_CHECKING:
    from sitegen.store.s3_snapshot import S3Snapshot


def open_s3(location: str, *, snapshot: bool = False) -> S3Backend | S3Snapshot:
    """The backend for ``s3://bucket/prefix``; ``snapshot`` gives the bulk-read view."""
    bucket, prefix = parse_s3_url(location)
    endpoint = endpoint_url()
    cache = FetchCache.default()
    live = S3Backend(
        make_client(location, endpoint), bucket, prefix, endpoint=endpoint, cache=cache
    )
    if not snapshot:
        return live
    from sitegen.store.s3_snapshot import S3Snapshot

    return S3Snapshot(live, cache)


# --- the live backend ------------------------------------------------------------------------


class _PreconditionFailed(Exception):
    def __init__(self, retried: bool) -> None:
        super().__init__("precondition failed")
        self.retried = retried


class _Conflict(Exception):
    pass


@dataclass(frozen=True)
class Listed:
    """One key as listed: its ETag (quotes kept), size and modification time."""

    etag: str
    size: int
    mtime_ns: int


class S3Backend:
    """A store under ``s3://bucket/prefix``; keys are ``/``-separated below the prefix."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        endpoint: str | None = None,
        multipart_threshold: int | None = None,
        cache: FetchCache | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.cache = cache
        # ETags seen in listings, HEADs, GETs and PUTs: a record whose current ETag is
        # known is read from the cache. A replaced object has a new ETag, so an edited
        # event or manifest is fetched (and caught) rather than served from the cache.
        self._etags: dict[str, str] = {}
        boto = load_boto(self.display(""))
        self._client_error = boto.client_error
        self._core_error = boto.core_error
        if multipart_threshold is None:
            try:
                multipart_threshold = int(
                    os.environ.get(MULTIPART_ENV, DEFAULT_MULTIPART_THRESHOLD)
                )
            except ValueError:
                multipart_threshold = DEFAULT_MULTIPART_THRESHOLD
        self.multipart_threshold = max(multipart_threshold, MIN_PART_SIZE)

    @property
    def namespace(self) -> str:
        """What identifies this store in caches: endpoint, bucket and prefix."""
        return f"{self.endpoint or 'aws'} {self.bucket} {self.prefix}"

    def _full(self, key: str) -> str:
        if key.startswith("/") or any(s in {".", ".."} for s in key.split("/")):
            raise ValueError(f"unsafe store key {key!r}")
        return self.prefix + key

    def display(self, key: str) -> str:
        path = (self.prefix + key).rstrip("/")
        return f"s3://{self.bucket}/{path}" if path else f"s3://{self.bucket}"

    # --- requests -------------------------------------------------------------------------

    def _call(self, operation: str, key: str, **params: Any) -> Any:
        """One S3 request; 404/412/409 become exceptions callers handle, the rest problems."""
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **params)
        except self._client_error as exc:
            response: dict[str, Any] = getattr(exc, "response", {}) or {}
            error = response.get("Error", {})
            code = str(error.get("Code", ""))
            meta = response.get("ResponseMetadata", {})
            status = str(meta.get("HTTPStatusCode", ""))
            if code == "NoSuchBucket":
                raise SitegenError.single(
                    self.display(key),
                    f"bucket {self.bucket!r} does not exist",
                    "create it first (aws s3 mb s3://BUCKET), or check the endpoint",
                ) from None
            if code in NOT_FOUND or (status == "404" and not code):
                raise FileNotFoundError(self.display(key)) from None
            if code in PRECONDITION_FAILED:
                raise _PreconditionFailed(int(meta.get("RetryAttempts", 0) or 0) > 0) from None
            if code in CONFLICT:
                raise _Conflict() from None
            message = error.get("Message") or code or status
            raise SitegenError.single(
                self.display(key),
                f"S3 request {operation} failed: {code or status}: {message}",
                "check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...), the bucket "
                f"policy and {ENDPOINT_ENV}",
            ) from None
        except self._core_error as exc:
            raise SitegenError.single(
                self.display(key),
                f"S3 request {operation} failed: {exc}",
                f"check the network, the credentials and {ENDPOINT_ENV}",
            ) from None

    def _cacheable(self, key: str) -> bool:
        return self.cache is not None and not key.startswith(OBJECTS + "/")

    def _remember(self, key: str, etag: str, data: bytes | None = None) -> None:
        if not etag:
            return
        self._etags[key] = etag
        if data is not None and self.cache is not None and self._cacheable(key):
            self.cache.put_record(self.namespace, key, etag, data)

    def read(self, key: str) -> bytes:
        etag = self._etags.get(key)
        if etag and self.cache is not None and self._cacheable(key):
            cached = self.cache.record(self.namespace, key, etag)
            if cached is not None:
                return cached
        return self.read_with_etag(key)[0]

    def read_with_etag(self, key: str) -> tuple[bytes, str]:
        response = self._call("get_object", key, Key=self._full(key))
        body = response["Body"]
        try:
            data = bytes(body.read())
        finally:
            body.close()
        etag = str(response.get("ETag", ""))
        self._remember(key, etag, data)
        return data, etag

    def hash_remote(self, key: str) -> tuple[str, int]:
        """(sha256, size) of the bytes at ``key``, streamed: nothing is kept."""
        body = self._call("get_object", key, Key=self._full(key))["Body"]
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in body.iter_chunks(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        finally:
            body.close()
        return digest.hexdigest(), size

    def head(self, key: str, checksum: bool = False) -> dict[str, Any]:
        params: dict[str, Any] = {"Key": self._full(key)}
        if checksum:
            params["ChecksumMode"] = "ENABLED"
        head = dict(self._call("head_object", key, **params))
        self._remember(key, str(head.get("ETag", "")))
        return head

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except FileNotFoundError:
            return False
        return True

    def identity(self, key: str) -> tuple[int, int]:
        head = self.head(key)
        return int(head.get("ContentLength", 0)), _ns(head.get("LastModified"))

    def _pages(self, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = self._call("list_objects_v2", key, **params, **extra)
            yield page
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")
            if not token:
                return

    def _dir(self, prefix: str) -> str:
        base = self._full(prefix) if prefix else self.prefix
        return base if not base or base.endswith("/") else base + "/"

    def children(self, prefix: str) -> list[str]:
        """Sorted names directly under ``prefix``: one ``ListObjectsV2`` with ``Delimiter=/`` a page.

        Records listed here whose ETag is not in the cache yet are fetched into it with a
        bounded thread pool: a listing of the event log is followed by reading it, and a
        writer new to a store would otherwise read the log one request at a time.
        """
        base = self._dir(prefix)
        names: set[str] = set()
        files: list[tuple[str, str]] = []
        for page in self._pages(prefix, Prefix=base, Delimiter="/"):
            for common in page.get("CommonPrefixes", ()):
                name = str(common["Prefix"])[len(base) :].rstrip("/")
                if name:
                    names.add(name)
            for obj in page.get("Contents", ()):
                name = str(obj["Key"])[len(base) :]
                if name and "/" not in name:
                    names.add(name)
                    key = f"{prefix.rstrip('/')}/{name}" if prefix else name
                    files.append((key, str(obj.get("ETag", ""))))
                    self._remember(key, files[-1][1])
        self._prefetch(files)
        return sorted(names)

    def _prefetch(self, listed: list[tuple[str, str]]) -> None:
        cache = self.cache
        if cache is None:
            return
        missing = [
            key
            for key, etag in listed
            if etag and self._cacheable(key) and not cache.has_record(self.namespace, key, etag)
        ]
        if len(missing) > 1:
            _bounded_map(self.read_with_etag, missing, workers())

    def list_tree(self, prefix: str = "") -> dict[str, Listed]:
        """Every key under ``prefix`` (recursively, relative to the store root) with its ETag."""
        base = self._dir(prefix)
        found: dict[str, Listed] = {}
        for page in self._pages(prefix, Prefix=base):
            for obj in page.get("Contents", ()):
                full = str(obj["Key"])
                rel = full[len(self.prefix) :]
                if rel and not rel.endswith("/"):
                    found[rel] = _listed(obj)
        return found

    def top_level(self) -> tuple[list[str], dict[str, Listed]]:
        """(directories, files with their ETags) directly under the store root: one listing."""
        base = self._dir("")
        dirs: set[str] = set()
        files: dict[str, Listed] = {}
        for page in self._pages("", Prefix=base, Delimiter="/"):
            for common in page.get("CommonPrefixes", ()):
                name = str(common["Prefix"])[len(base) :].rstrip("/")
                if name:
                    dirs.add(name)
            for obj in page.get("Contents", ()):
                name = str(obj["Key"])[len(base) :]
                if name and "/" not in name:
                    files[name] = _listed(obj)
        return sorted(dirs), files

    # --- writes ---------------------------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        """Replace ``key`` atomically (a single PUT, or a completed multipart upload)."""
        self._upload(key, data, exclusive=False)

    def put_exclusive(self, key: str, data: bytes) -> bool:
        """Create ``key`` unless it exists (``If-None-Match: *``); whole or not at all."""
        for attempt in range(CONFLICT_RETRIES):
            try:
                self._upload(key, data, exclusive=True)
                return True
            except _PreconditionFailed as failed:
                if failed.retried:
                    # An earlier attempt of this very request may have landed and its answer
                    # been lost: then the object holds our bytes and the claim is ours.
                    try:
                        return self.read(key) == data
                    except FileNotFoundError:
                        continue
                return False
            except _Conflict:
                # A concurrent conditional write on the same key is in flight: S3 says
                # "retry"; the retry sees the winner (412) or wins itself.
                time.sleep(min(0.05 * 2**attempt, 1.0))
        raise SitegenError.single(
            self.display(key),
            "could not create the key: S3 kept reporting conflicting writes",
            "retry; if it persists, check what else writes to this prefix",
        )

    def _upload(self, key: str, data: bytes, exclusive: bool) -> None:
        if len(data) >= self.multipart_threshold:
            self._multipart(key, data, exclusive)
            return
        params: dict[str, Any] = {
            "Key": self._full(key),
            "Body": data,
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": _b64_sha256(data),
        }
        if exclusive:
            params["IfNoneMatch"] = "*"
        self._remember(key, str(self._call("put_object", key, **params).get("ETag", "")), data)

    def _multipart(self, key: str, data: bytes, exclusive: bool) -> None:
        """Large bytes in parts; the object appears only when the upload completes."""
        full = self._full(key)
        upload = self._call("create_multipart_upload", key, Key=full)["UploadId"]
        try:
            parts = []
            view = memoryview(data)
            size = self.multipart_threshold
            for number, start in enumerate(range(0, len(data), size), start=1):
                answer = self._call(
                    "upload_part",
                    key,
                    Key=full,
                    UploadId=upload,
                    PartNumber=number,
                    Body=bytes(view[start : start + size]),
                )
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
            params: dict[str, Any] = {
                "Key": full,
                "UploadId": upload,
                "MultipartUpload": {"Parts": parts},
            }
            if exclusive:
                params["IfNoneMatch"] = "*"
            done = self._call("complete_multipart_upload", key, **params)
            self._remember(key, str(done.get("ETag", "")), data)
        except BaseException:
            with contextlib.suppress(
                SitegenError, FileNotFoundError, _PreconditionFailed, _Conflict
            ):
                self._call("abort_multipart_upload", key, Key=full, UploadId=upload)
            raise


def _b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _ns(when: Any) -> int:
    """A datetime (or nothing) as integer nanoseconds since the epoch."""
    try:
        return int(when.timestamp() * 1_000_000) * 1000
    except AttributeError:
        return 0


def _bounded_map(fn: Callable[[str], T], items: Iterable[str], limit: int) -> list[T]:
    """``fn`` over ``items`` with at most ``limit`` in flight, in order; the first error wins."""
    todo = list(items)
    if len(todo) <= 1 or limit <= 1:
        return [fn(item) for item in todo]
    with ThreadPoolExecutor(min(limit, len(todo)), thread_name_prefix="sitegen-s3") as pool:
        return list(pool.map(fn, todo))


def _listed(obj: dict[str, Any]) -> Listed:
    return Listed(str(obj.get("ETag", "")), int(obj.get("Size", 0)), _ns(obj.get("LastModified")))


__all__ = [
    "ENDPOINT_ENV",
    "REQUESTS",
    "Listed",
    "S3Backend",
    "make_client",
    "open_s3",
    "parse_s3_url",
    "request_count",
]
