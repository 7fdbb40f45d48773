"""``sitegen serve STORE``: build, serve on localhost, rebuild when the store changes.

Pages reload themselves: on localhost, site.js polls ``sitegen-build.json`` and reloads
when a rebuild changed it, so nothing is injected into the pages.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
from pathlib import Path

from sitegen.build import build
from sitegen.commands.build import add_build_arguments, options_from
from sitegen.errors import SitegenError

POLL_SECONDS = 1.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve", help="preview the site on localhost, rebuilding on change"
    )
    add_build_arguments(parser)
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    parser.set_defaults(func=run)


def snapshot(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime) of every file under ``paths``: cheap change detection."""
    seen = []
    for root in paths:
        if root.is_file():
            stat = root.stat()
            seen.append((str(root), stat.st_size, stat.st_mtime_ns))
        for path in sorted(root.rglob("*")) if root.is_dir() else ():
            if path.is_file() and ".tmp-" not in path.name:
                stat = path.stat()
                seen.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(seen)


def rebuild(args: argparse.Namespace) -> None:
    try:
        report = build(options_from(args))
        print(f"rebuilt in {report.seconds:.2f}s ({report.rendered} pages rendered)", flush=True)
    except SitegenError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print("build failed; still serving the previous site", file=sys.stderr, flush=True)


def watch(args: argparse.Namespace, stop: threading.Event) -> None:
    watched = [Path(args.store)] + ([Path(args.config)] if args.config else [])
    last = snapshot(watched)
    while not stop.wait(POLL_SECONDS):
        now = snapshot(watched)
        if now != last:
            last = now
            rebuild(args)


def run(args: argparse.Namespace) -> int:
    report = build(options_from(args))
    print(f"built {report.pages} files into {report.out}")
    handler = functools.partial(QuietHandler, directory=str(args.output))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    stop = threading.Event()
    threading.Thread(target=watch, args=(args, stop), daemon=True).start()
    print(f"serving http://127.0.0.1:{server.server_port}/ (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
    return 0


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()
