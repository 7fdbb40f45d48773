"""The ``sitegen`` command: parse, call, print. Each subcommand lives in ``sitegen.commands``.

Exit codes: 0 ok, 1 bad input or a failed check, 2 usage error. User errors are
printed as ``path:line: message`` with a hint, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sitegen import __version__
from sitegen.commands import (
    alias,
    assets,
    build,
    compare,
    diff,
    import_,
    lineage,
    log_artifact,
    serve,
    sync,
    validate,
    verify,
    verify_site,
)
from sitegen.errors import SitegenError, UsageError
from sitegen.store.backend import unreadable
from sitegen.store.nesting import HINT

COMMANDS = (
    build,
    serve,
    validate,
    verify,
    verify_site,
    compare,
    diff,
    lineage,
    log_artifact,
    import_,
    alias,
    assets,
    sync,
)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sitegen",
        description="Log ML artifacts and runs into a versioned store; build a static site from it.",
    )
    parser.add_argument("--version", action="version", version=f"sitegen {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def report(error: SitegenError) -> None:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    errors = sum(1 for p in error.problems if p.severity == "error")
    if len(error.problems) > 1:
        print(
            f"sitegen: {errors} error(s), {len(error.problems) - errors} warning(s)",
            file=sys.stderr,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args.func(args)
    except UsageError as error:
        report(error)
        return 2
    except SitegenError as error:
        report(error)
        return 1
    except KeyboardInterrupt:
        print("sitegen: interrupted", file=sys.stderr)
        return 130
    except OSError as error:  # a file that cannot be read or written, where no reader says why
        where = f"{error.filename}: " if error.filename else ""
        print(f"sitegen: error: {where}{unreadable(error)}", file=sys.stderr)
        return 1
    except RecursionError:  # input nested past what a reader checks (an importer's source)
        print(
            f"sitegen: error: input nested too deeply to process\n  hint: {HINT}", file=sys.stderr
        )
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
