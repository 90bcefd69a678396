"""The ``gsalign`` command line: ``gsalign demo`` (and, as they land, ``chain`` and ``scan``).

Each subcommand is a ``_cmd_<name>(args) -> int`` function registered in :func:`_parser`; the
return value is the process exit code (0 ok, 1 some items failed, 2 bad arguments or input).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(seed=args.seed)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gsalign",
        description="Geometric and spectral alignment of deep operator chains.",
    )
    parser.add_argument("--version", action="version", version=f"gsalign {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the built-in deterministic example")
    demo.add_argument("--seed", type=int, default=0, help="seed of the synthetic factors (default 0)")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gsalign`` script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
