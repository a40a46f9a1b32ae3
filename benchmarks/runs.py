"""What the training benchmarks share: a finished run's encoded regions, and mean ± sd."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqsal.io.bed import read_regions
from seqsal.io.shards import read_shards, regions_in_order


def load_run(run: Path) -> tuple:
    """A run folder's encode shards (``read_shards``) and its regions in their order;
    ``--until`` the encode stage is enough."""
    data = read_shards(sorted((run / "results/encode").glob("*.npz")))
    regions = regions_in_order(
        read_regions(run / "results/regions/regions.bed"), data["names"], run
    )
    return data, regions


def spread(values) -> str:
    """``mean ± sd`` to three decimals."""
    values = np.asarray(values)
    return f"{values.mean():.3f} ± {values.std():.3f}"
