"""``seqsal <stage> ...``: one subcommand per stage, one module per subcommand.

Each module ``seqsal.cli.<stage>`` has ``add_arguments(parser)`` and ``run(args)``:
parse, load, call the stage's one function (its ``STAGE``), save. Options that stand for
config keys (its ``OPTIONS``) take their type, default and help from the config schema.

Errors in the user's input end the command with one line on stderr (file, line or key,
expected, found) and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from .. import __version__
from ..errors import InputError, last_line, one_line
from .options import checked

# OMP_WAIT_POLICY: the package sets it on import (seqsal/__init__.py), before torch.

#: The thread pools ``--threads`` sizes: OpenMP (PyTorch's intra-op threads) and the BLAS
#: libraries NumPy may load, so that no pool runs wider than the job's cores.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def use_threads(threads: int | None) -> None:
    """Size every thread pool to ``threads`` (the job's cores), before NumPy or PyTorch is
    imported; None leaves them as the libraries choose (all cores).

    Parameters
    ----------
    threads : int or None
    """
    if threads is None:
        return
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if "torch" in sys.modules:  # imported already (seqsal called in-process)
        sys.modules["torch"].set_num_threads(threads)


STAGES = (
    "simulate",
    "regions",
    "encode",
    "train",
    "attribute",
    "seqlets",
    "motifs",
    "tracks",
    "evaluate",
    "variants",
    "report",
)


def stage_module(stage: str):
    """The CLI module of ``stage``, e.g. :mod:`seqsal.cli.tracks`.

    Parameters
    ----------
    stage : str
        One of :data:`STAGES`.

    Returns
    -------
    module : module
        With ``HELP``, ``STAGE``, ``OPTIONS``, ``add_arguments(parser)`` and ``run(args)``.
    """
    return importlib.import_module(f"{__name__}.{stage}")


def build_parser() -> argparse.ArgumentParser:
    """The ``seqsal`` argument parser, one subcommand per stage."""
    parser = argparse.ArgumentParser(
        prog="seqsal",
        description="seqsal: per-base attributions of DNA sequence models, "
        "from regions to motifs and IGV tracks.",
    )
    parser.add_argument("--version", action="version", version=f"seqsal {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for stage in STAGES:
        module = stage_module(stage)
        stage_parser = sub.add_parser(stage, help=module.HELP, description=module.HELP)
        stage_parser.add_argument("-v", "--verbose", action="store_true", help="show progress bars")
        stage_parser.add_argument(
            "--threads",
            type=checked("integer", {"minimum": 1}),
            help="CPU threads for the job (the rule's threads); default: all cores",
        )
        stage_parser.add_argument(
            "--log",
            help="write the whole log to this file; the console gets progress (at most "
            "every 30 s), warnings and errors",
        )
        module.add_arguments(stage_parser)
        stage_parser.set_defaults(run=module.run)
    return parser


def main(argv=None) -> int:
    """Run ``seqsal`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Parameters
    ----------
    argv : list of str or None, optional
        The arguments. Default is None: the command line.

    Returns
    -------
    status : int
        0, or 1 after one line on stderr naming the problem in the user's input; with
        ``--log``, 2 after one line saying that the job failed (the traceback in the log).
    """
    from ..progress import log_to

    args = build_parser().parse_args(argv)
    use_threads(args.threads)
    log_to(args.log, args.command)
    log = logging.getLogger("seqsal")
    try:
        args.run(args)
    except Exception as error:
        line = one_line(error) if isinstance(error, InputError | OSError) else None
        if line is not None:
            if args.log:
                log.info("error: %s", line)  # the log ends with it too
            print(f"seqsal {args.command}: error: {line}", file=sys.stderr)
            return 1
        if not args.log:
            raise  # not known: its traceback goes where stderr goes
        log.exception("failed")  # not known: its traceback goes to the rule's log
        print(
            f"seqsal {args.command}: failed ({last_line(error)}); the traceback is in {args.log}",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
