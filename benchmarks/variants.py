"""Benchmark: scoring SNVs with seqsal against tangermeme, in one run.

Variants lie in 1 kb windows of a random genome, ``--per-window`` of them per window
(REF windows are shared, as in a VCF of one population's SNVs in a set of peaks). Two
models with random weights: seqsal's BPNet-like 1 kb model (its fastISM path applies) and
a BPNet-like model defined outside seqsal (``benchmarks/foreign.py``: it declares no body;
seqsal finds one with ``torch.fx``). Both tools compute the same thing: the output on REF and on ALT
of each variant, oriented (no strand average). tangermeme's ``substitution_effect`` takes
one sequence per variant, so it is given one copy of its window per variant, in chunks of
``--chunk`` variants so its memory stays bounded too; seqsal takes the variants table.
The outputs are compared (max |difference|), the times as a ratio (tangermeme / seqsal).

First the peak RSS that seqsal's scoring adds to a fresh process, for N and 4N variants:
flat when memory does not grow with the variants.

    pip install -e ".[bench]"
    python benchmarks/variants.py                      # 100,000 SNVs (long on 2 cores)
    python benchmarks/variants.py --n-variants 8000    # a quicker look
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import torch
from foreign import BPNetLike

from seqsal.models import BPNet
from seqsal.variants import place_variants, score_variants

WIDTH = 1000


def dataset(n_variants: int, per_window: int, seed: int = 0, width: int = WIDTH):
    """A random genome of windows of ``width`` bases, its regions, and SNVs in them."""
    rng = np.random.default_rng(seed)
    n_windows = -(-n_variants // per_window)
    contig = rng.choice(np.frombuffer(b"ACGT", np.uint8), n_windows * width)
    regions = pd.DataFrame(
        {
            "chrom": "chr1",
            "start": np.arange(n_windows) * width,
            "end": np.arange(1, n_windows + 1) * width,
            "name": [f"w{i}" for i in range(n_windows)],
            "score": 0,
            "strand": "+",
        }
    )
    window = np.repeat(np.arange(n_windows), per_window)[:n_variants]
    offset = np.concatenate(
        [rng.choice(width, per_window, replace=False) for _ in range(n_windows)]
    )
    pos = window * width + offset[:n_variants]
    ref = contig[pos]
    alt = np.frombuffer(b"ACGT", np.uint8)[
        (np.searchsorted(np.frombuffer(b"ACGT", np.uint8), ref) + rng.integers(1, 4, n_variants))
        % 4
    ]
    variants = pd.DataFrame(
        {
            "chrom": "chr1",
            "pos": pos,
            "ref": [chr(c) for c in ref],
            "alt": [chr(c) for c in alt],
            "name": [f"v{i}" for i in range(n_variants)],
            "line": np.arange(n_variants),
        }
    )
    return contig, regions, variants


def seqsal_scores(model, contig, regions, variants):
    placed = place_variants(variants, regions, width=WIDTH)
    ref, alt, _, _ = score_variants(
        placed, lambda chrom: contig, model, width=WIDTH, oriented=True, n_null=0
    )
    return ref, alt


def tangermeme_scores(model, contig, variants, chunk, batch_size):
    from tangermeme.variant_effect import substitution_effect

    bases = np.frombuffer(b"ACGT", np.uint8)
    pos = variants["pos"].to_numpy()
    alt = np.searchsorted(bases, np.frombuffer("".join(variants["alt"]).encode(), np.uint8))
    refs, alts = [], []
    for i in range(0, len(variants), chunk):
        rows = slice(i, i + chunk)
        starts = pos[rows] // WIDTH * WIDTH
        codes = contig[starts[:, None] + np.arange(WIDTH)]
        X = torch.from_numpy((codes[:, None, :] == bases[None, :, None]).astype(np.float32))
        subs = torch.tensor(np.stack([np.arange(len(X)), pos[rows] - starts, alt[rows]], 1))
        result = substitution_effect(model, X, subs, batch_size=batch_size, verbose=False)
        refs.append(result[0])
        alts.append(result[1])
    return torch.cat(refs).numpy(), torch.cat(alts).numpy()


def best_batch(model, contig, variants, chunk) -> int:
    """tangermeme's fastest batch size on the first 512 variants."""
    sweep = {}
    for batch in (16, 32, 64, 128):
        sweep[batch] = timed(
            lambda b=batch: tangermeme_scores(model, contig, variants[:512], chunk, b)
        )[0]
    return min(sweep, key=sweep.get)


def timed(run):
    start = time.perf_counter()
    out = run()
    return time.perf_counter() - start, out


def rss_child(n_variants: int, per_window: int) -> float:
    """Peak RSS (MB) of a fresh process scoring ``n_variants`` with the BPNet model, less
    that of the same process before scoring (its data). Run before anything large: Linux
    keeps a process's peak RSS across fork and exec."""
    code = (
        "import resource, sys, torch; sys.path.insert(0, 'benchmarks');"
        "import variants as b; torch.manual_seed(0);"
        "from seqsal.models import BPNet;"
        f"c, r, v = b.dataset({n_variants}, {per_window});"
        "m = BPNet(input_length=1000, n_outputs=1).eval();"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        "b.seqsal_scores(m, c, r, v);"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-variants", type=int, default=100_000)
    parser.add_argument("--per-window", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=1024)
    parser.add_argument("--rss-variants", type=int, default=5000)
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    small, large = args.rss_variants, 4 * args.rss_variants
    rss = {small: rss_child(small, args.per_window), large: rss_child(large, args.per_window)}
    print(f"peak RSS of scoring, above its data (MB): {rss}", flush=True)
    torch.manual_seed(0)
    contig, regions, variants = dataset(args.n_variants, args.per_window)
    results = {"n_variants": args.n_variants, "per_window": args.per_window, "models": {}}
    results["scoring_peak_rss_mb"] = rss
    for name, model in {
        "bpnet_1kb (seqsal.models)": BPNet(input_length=WIDTH, n_outputs=1).eval(),
        "foreign BPNet-like 1kb": BPNetLike().eval(),
    }.items():
        batch = best_batch(model, contig, variants, args.chunk)
        ours_s, (ref, alt) = timed(lambda m=model: seqsal_scores(m, contig, regions, variants))
        theirs_s, (t_ref, t_alt) = timed(
            lambda m=model, b=batch: tangermeme_scores(m, contig, variants, args.chunk, b)
        )
        error = float(np.abs((alt - ref) - (t_alt - t_ref)).max())
        results["models"][name] = {
            "seqsal_s": round(ours_s, 2),
            "tangermeme_s": round(theirs_s, 2),
            "tangermeme_batch": batch,
            "ratio": round(theirs_s / ours_s, 2),
            "max_abs_delta_difference": error,
        }
        ratio = theirs_s / ours_s
        print(
            f"{name}: seqsal {ours_s:.1f} s, tangermeme {theirs_s:.1f} s (batch {batch}), "
            f"ratio {ratio:.2f}x, max |delta diff| {error:.2g}",
            flush=True,
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
