"""Progress in the logs: a job on a cluster is followed with ``tail -f logs/<rule>/...``,
where a progress bar (``--verbose``) does not reach; and on the console, where a
Snakemake run would otherwise be silent for the whole of a long job.

With ``--log FILE`` (what every rule passes), the whole log goes to the file and the
console gets the job's progress lines (at most one per :data:`CONSOLE_EVERY` seconds)
and its warnings and errors, each prefixed with the subcommand.
"""

from __future__ import annotations

import logging
import sys
import time

CONSOLE_EVERY = 30.0  # seconds between a job's progress lines on the console
PROGRESS = {"progress": True}  # ``extra`` of a log record that tells progress
FORMAT = "%(asctime)s seqsal %(levelname)s %(message)s"


class ConsoleLines(logging.Filter):
    """Pass seqsal's warnings and errors, and a progress record once per ``every``
    seconds (the first at once).

    Parameters
    ----------
    every : float, optional
        Default is :data:`CONSOLE_EVERY`.
    """

    def __init__(self, every: float = CONSOLE_EVERY):
        super().__init__()
        self.every, self.last = every, None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return record.name.startswith("seqsal")
        if not getattr(record, "progress", False):
            return False
        now = time.monotonic()
        if self.last is not None and now - self.last < self.every:
            return False
        self.last = now
        return True


def log_to(path, command: str) -> None:
    """Send the whole log to ``path`` and a job's progress to stderr (or, without a
    path, the whole log to stderr).

    Parameters
    ----------
    path : str or None
        The job's log file (the rule's ``log``).
    command : str
        The subcommand, named at the start of each console line.
    """
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in [h for h in root.handlers if getattr(h, "seqsal", False)]:
        root.removeHandler(handler)  # an earlier call's, in the same process
        handler.close()
    if not path:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=FORMAT)
        return
    to_file = logging.FileHandler(path, mode="w")
    to_file.setFormatter(logging.Formatter(FORMAT))
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter(f"seqsal {command}: %(message)s"))
    console.addFilter(ConsoleLines())
    for handler in (to_file, console):
        handler.seqsal = True
        root.addHandler(handler)
    logging.captureWarnings(True)  # a library's warnings in the file, not the console


class Progress:
    """Log ``what: done of total (pct), elapsed, about ... left`` every ``every`` seconds
    and once at the end.

    Parameters
    ----------
    log : logging.Logger
    what : str
        What is being done, e.g. the attribution method.
    total : int
    unit : str, optional
        Default is "regions".
    every : float, optional
        Seconds between lines. Default is 30.
    """

    def __init__(self, log: logging.Logger, what: str, total: int, *, unit="regions", every=30.0):
        self.log, self.what, self.total, self.unit, self.every = log, what, total, unit, every
        self.done = 0
        self.start = self.last = time.monotonic()

    def update(self, n: int) -> None:
        """Count ``n`` more done; log when ``every`` seconds have passed or all is done.

        Parameters
        ----------
        n : int
        """
        self.done += n
        now = time.monotonic()
        if now - self.last < self.every and self.done < self.total:
            return
        self.last = now
        elapsed = now - self.start
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        self.log.info(
            "%s: %s of %s %s (%.0f%%), %.0f s elapsed%s",
            self.what,
            f"{self.done:,}",
            f"{self.total:,}",
            self.unit,
            100 * self.done / max(self.total, 1),
            elapsed,
            f", about {left:.0f} s left" if self.done < self.total else "",
            extra=PROGRESS,
        )
