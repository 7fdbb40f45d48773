"""S3 clients: the URL of a store, boto3 loaded lazily, one cached client per process,
endpoint and addressing style, and a count of the requests they send."""

from __future__ import annotations

import importlib
import os
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sitegen.errors import SitegenError

ENDPOINT_ENV = "SITEGEN_S3_ENDPOINT"
ADDRESSING_ENV = "SITEGEN_S3_ADDRESSING_STYLE"
WORKERS_ENV = "SITEGEN_S3_WORKERS"
DEFAULT_WORKERS = 16
INSTALL_HINT = "install the S3 support: pip install 'sitegen[s3]'"

#: Requests sent by every S3 client of this process, by operation name (``GetObject``,
#: ``ListObjectsV2``, ...), retries included. For diagnostics, tests and benchmarks.
REQUESTS: Counter[str] = Counter()
_REQUESTS_LOCK = threading.Lock()


def _count(event_name: str = "", **_: Any) -> None:
    with _REQUESTS_LOCK:
        REQUESTS[event_name.rsplit(".", 1)[-1]] += 1


def request_count() -> int:
    with _REQUESTS_LOCK:
        return sum(REQUESTS.values())


def workers() -> int:
    """Concurrent requests for bulk fetches: ``$SITEGEN_S3_WORKERS`` or 16."""
    try:
        return max(1, int(os.environ.get(WORKERS_ENV, DEFAULT_WORKERS)))
    except ValueError:
        return DEFAULT_WORKERS


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix/")`` (prefix "" or ending in /)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise SitegenError.single(url, "expected an S3 URL like s3://bucket/prefix")
    if parts.query or parts.fragment:
        raise SitegenError.single(
            url,
            "S3 store URLs take no query or fragment",
            f"set the endpoint with {ENDPOINT_ENV} or the AWS config instead",
        )
    segments = [s for s in parts.path.split("/") if s]
    if any(s in {".", ".."} for s in segments):
        raise SitegenError.single(url, "S3 store prefixes must not contain '.' or '..' segments")
    prefix = "/".join(segments)
    return parts.netloc, f"{prefix}/" if prefix else ""


@dataclass(frozen=True)
class Boto:
    """What this module needs from boto3/botocore, loaded once."""

    boto3: Any
    config: Any
    client_error: type[Exception]
    core_error: type[Exception]


_BOTO: Boto | None = None
_CLIENTS: dict[tuple[int, str | None, str], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def load_boto(location: str) -> Boto:
    global _BOTO
    if _BOTO is None:
        try:
            boto3 = importlib.import_module("boto3")
            config = importlib.import_module("botocore.config")
            errors = importlib.import_module("botocore.exceptions")
        except ImportError:
            raise SitegenError.single(
                location, "s3:// stores need boto3, which is not installed", INSTALL_HINT
            ) from None
        _BOTO = Boto(boto3, config.Config, errors.ClientError, errors.BotoCoreError)
    return _BOTO


def endpoint_url() -> str | None:
    """``$SITEGEN_S3_ENDPOINT``; else None, and boto3 applies ``AWS_ENDPOINT_URL[_S3]`` / config."""
    return os.environ.get(ENDPOINT_ENV) or None


def make_client(location: str, endpoint: str | None = None) -> Any:
    """A (cached, thread-safe) S3 client; one per process, endpoint and addressing style."""
    boto = load_boto(location)
    style = os.environ.get(ADDRESSING_ENV) or ("path" if endpoint else "auto")
    cache_key = (os.getpid(), endpoint, style)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(cache_key)
        if client is None:
            session = boto.boto3.session.Session()
            config = boto.config(
                max_pool_connections=max(workers(), 10) + 4,
                retries={"mode": "standard", "max_attempts": 5},
                s3={"addressing_style": style},
                connect_timeout=10,
                read_timeout=120,
            )
            client = session.client(
                "s3",
                endpoint_url=endpoint,
                region_name=session.region_name or "us-east-1",
                config=config,
            )
            client.meta.events.register("before-send.s3", _count)
            _CLIENTS[cache_key] = client
    return client
