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

    run_demo(seed=args.seed, plot=None if args.no_plot else args.plot)
    return 0


def _cmd_scan(args: argparse.Namespace) -> int:
    from .scan import run_scan_command

    charts = tuple(c for c in args.charts.split(",") if c)
    if len(args.path) > 1 or args.scheduler is not None or args.local_cluster is not None:
        return _cmd_scan_distributed(args, charts)
    return run_scan_command(
        args.path[0], pattern=args.pattern, out=args.out, plots=args.plots, threads=args.threads, charts=charts
    )


def _cmd_scan_distributed(args: argparse.Namespace, charts: tuple[str, ...]) -> int:
    """``gsalign scan PATH... [--scheduler ADDR | --local-cluster N]`` (gsalign.distributed)."""
    if args.plots is not None:
        print("error: --plots needs a single checkpoint scanned without a cluster", file=sys.stderr)
        return 2
    from .distributed import run_scan_command as run_distributed

    return run_distributed(
        args.path, scheduler=args.scheduler, local_cluster=args.local_cluster, pattern=args.pattern,
        out=args.out, threads=args.threads, charts=charts,
    )


def _cmd_chain(args: argparse.Namespace) -> int:
    from .chain import demo_report, load_factors
    from .exceptions import GsalignError

    try:
        factors = load_factors(args.path, key=args.key)
        chain = demo_report(factors=factors, plot=args.plot, budget=args.budget, chart=args.chart, n_threads=args.threads)
    except (GsalignError, OSError, ValueError) as exc:
        print(f"gsalign chain: {exc}", file=sys.stderr)
        return 2
    return 0 if chain.certify(budget=args.budget, chart=args.chart).holds else 1


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gsalign",
        description="Geometric and spectral alignment of deep operator chains.",
    )
    parser.add_argument("--version", action="version", version=f"gsalign {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the built-in deterministic example")
    demo.add_argument("--seed", type=int, default=0, help="seed of the synthetic factors (default 0)")
    demo.add_argument(
        "--plot", default="gsalign-demo-profile.png", metavar="PNG",
        help="where to write the chain's exponent-profile plot (default: %(default)s; needs matplotlib)",
    )
    demo.add_argument("--no-plot", action="store_true", help="write no plot")
    demo.set_defaults(func=_cmd_demo)

    scan = sub.add_parser(
        "scan",
        help="profile every layer matrix of a .safetensors checkpoint (file, directory or shard index)",
    )
    scan.add_argument(
        "path", nargs="+", metavar="PATH",
        help="a .safetensors file, a directory of them, or a *.safetensors.index.json (several: scanned as tasks)",
    )
    scan.add_argument("--pattern", metavar="RE", help="only tensors whose name matches this regular expression")
    scan.add_argument("--out", metavar="FILE", help="write the per-layer report (.csv, .json or .parquet)")
    scan.add_argument("--plots", metavar="DIR", help="write PNG figures (exponent profile, spectra, rank windows)")
    scan.add_argument("--threads", type=_positive_int, metavar="N", help="worker threads (default: all cores)")
    scan.add_argument("--charts", default="ls,top", help="comma-separated charts among ls, top, metric (default ls,top)")
    cluster = scan.add_mutually_exclusive_group()
    cluster.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the scan as tasks on this Dask scheduler")
    cluster.add_argument(
        "--local-cluster", type=_positive_int, metavar="N", help="run the scan as tasks on N local Dask worker processes"
    )
    scan.set_defaults(func=_cmd_scan)

    chain = sub.add_parser(
        "chain",
        help="profile and certify a chain of factors from a .npy stack (L, d, d) or a .npz (memory-mapped)",
    )
    chain.add_argument("path", help="a .npy file holding a 3-D stack, or a .npz archive")
    chain.add_argument("--key", help="array name inside a .npz (default: 'factors' or its only array)")
    chain.add_argument("--plot", metavar="PNG", help="write the exponent profile with its certified drift band")
    chain.add_argument("--budget", type=float, metavar="M", help="interface budget M > 1 (default: the chain's own)")
    chain.add_argument("--chart", default="ls", choices=("ls", "top", "metric"), help="profile chart (default ls)")
    chain.add_argument("--threads", type=_positive_int, metavar="N", help="worker threads (default: all cores)")
    chain.set_defaults(func=_cmd_chain)
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
