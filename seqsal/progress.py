"""Progress in the logs: a job on a cluster is followed with ``tail -f logs/<rule>/...``,
where a progress bar (``--verbose``) does not reach."""

from __future__ import annotations

import logging
import time


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
        )
