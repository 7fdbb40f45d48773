"""A moto S3 server on loopback for tests and benchmarks: ``python tests/s3/moto_server.py``.

Prints ``PORT <n>`` once it listens on ``127.0.0.1:<n>`` (a free port), then serves until
stdin closes or it is killed, so a parent that dies takes it along. ``--latency MS`` adds
that much delay to every request (a stand-in for a real network round trip, for benchmarks).

Why not ``moto_server`` as is: moto honours ``If-None-Match: *`` on ``PutObject`` and
``CompleteMultipartUpload`` (412 when the key exists) since 5.0.x (the 500-instead-of-412
regression of 5.2.0 is fixed in 5.2.1), but it checks and then writes without a lock, so
two conditional PUTs of one key racing inside the threaded server could both succeed. Real
S3 makes the check and the write one atomic step; to test sitegen against that contract,
this wrapper serialises the requests that change state (PUT, POST, DELETE) while reads
stay concurrent.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

WRITE_METHODS = frozenset({"PUT", "POST", "DELETE"})


def make_app(latency: float = 0.0) -> Callable[..., Iterable[bytes]]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if latency:
            time.sleep(latency)
        if environ.get("REQUEST_METHOD") in WRITE_METHODS:
            with lock:
                return list(app(environ, start_response))
        return app(environ, start_response)  # type: ignore[no-any-return]

    return serialised


def main() -> None:
    from werkzeug.serving import make_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, make_app(args.latency / 1000), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_port}", flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or dies)
    server.shutdown()


if __name__ == "__main__":
    main()
