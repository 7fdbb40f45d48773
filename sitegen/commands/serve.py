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
from collections.abc import Iterable
from pathlib import Path

from sitegen.build import build
from sitegen.commands.build import add_build_arguments, options_from
from sitegen.config import default_config_paths, load_config
from sitegen.errors import SitegenError
from sitegen.store.backend import LocalBackend
from sitegen.store.format import ARTIFACTS, EVENTS, RUNS, collection_key, history_key, run_key

POLL_SECONDS = 1.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve", help="preview the site on localhost, rebuilding on change"
    )
    add_build_arguments(parser)
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    parser.set_defaults(func=run)


def snapshot(store: Path, config: Path | None) -> tuple[object, ...]:
    """A cheap fingerprint of what can change the site: the event log's names (every commit,
    alias move and run start or end appends an event), each run's record and history, each
    collection's description file, the site config and the theme folder it names.

    Manifests and objects are immutable and matter only once an event commits them, so a big
    store is not walked every second (75,000 files at 10,000 versions).
    """
    backend = LocalBackend(store)
    return (
        tuple(backend.children(EVENTS)),
        _stats(
            store / key
            for run in backend.children(RUNS)
            for key in (run_key(run), history_key(run))
        ),
        _stats(
            store / collection_key(type_, name) / "collection.yaml"
            for type_ in backend.children(ARTIFACTS)
            for name in backend.children(f"{ARTIFACTS}/{type_}")
        ),
        _stats([config] if config else default_config_paths(store)),
        _stats(_theme_files(store, config)),
    )


def _theme_files(store: Path, config: Path | None) -> list[Path]:
    try:
        theme = load_config(config, store).theme_dir
    except SitegenError:  # the rebuild reports it
        return []
    return sorted(p for p in theme.rglob("*") if p.is_file()) if theme else []


def _stats(paths: Iterable[Path]) -> tuple[tuple[str, int, int] | None, ...]:
    """(path, size, mtime) of each file; None for one that is missing."""
    out: list[tuple[str, int, int] | None] = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            out.append(None)
            continue
        out.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def rebuild(args: argparse.Namespace) -> None:
    try:
        report = build(options_from(args))
        print(f"rebuilt in {report.seconds:.2f}s ({report.rendered} pages rendered)", flush=True)
    except SitegenError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print("build failed; still serving the previous site", file=sys.stderr, flush=True)


def watch(args: argparse.Namespace, stop: threading.Event) -> None:
    store, config = Path(args.store), args.config
    last = snapshot(store, config)
    while not stop.wait(POLL_SECONDS):
        now = snapshot(store, config)
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
