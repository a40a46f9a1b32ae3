"""Benchmark: attribution priors remove a planted shortcut (issue 22).

A known answer. Each sequence is random; a positive carries an AP-1 site
(``TGACTCA``, sampled from a PPM) somewhere after base 15, and 10% of the labels are
flipped, so the site predicts the label at about 90%. Bases 0-15 (15% of each sequence)
hold one of two adapters, which in the training and validation data agrees with the
label 97% of the time: a better cue than the site, and one that means nothing outside
this library. The test set is shortcut-free: its adapters are drawn at random.

Three models, the default ``cnn`` with the same seed:

- **plain**: trained as usual; it reads the adapter.
- **prior**: ``model.prior.irrelevant: [adapter:0:15]``.
- **no adapter**: trained on the same sequences with random adapters, the best a model
  can do without the shortcut.

Per model, over ``--seeds`` seeds: the share of |gradient x input| in the adapter on the
test set (seqsal's shortcut audit), the shortcut-free test AUROC, and seconds per
training epoch (the prior's double backpropagation, as a ratio to plain).

    python benchmarks/priors.py              # 3 seeds
    python benchmarks/priors.py --seeds 1    # quicker
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from seqsal.attribute import attribute
from seqsal.evaluate import shortcut_audit
from seqsal.metrics import score_predictions
from seqsal.models import predict
from seqsal.simulate import box_ppm
from seqsal.train import PriorOptions, build_priors, train_model

LENGTH, ADAPTER = 100, 15
ADAPTERS = ("ACGTTGCATGCAGTC", "GGATCCTTAAGCTAG")
SITE = box_ppm("TGACTCA", weight=0.9)


def library(n: int, *, agree: float, seed: int) -> tuple:
    """One-hot sequences (n, 4, LENGTH) and labels (n, 1) as the module docstring says."""
    rng = np.random.default_rng(seed)
    site = rng.random(n) < 0.5
    y = np.where(rng.random(n) < 0.1, ~site, site).astype(np.float32)[:, None]
    bases = rng.integers(0, 4, (n, LENGTH))
    for row in np.flatnonzero(site):
        start = rng.integers(ADAPTER, LENGTH - SITE.shape[1] + 1)
        columns = np.arange(SITE.shape[1])
        bases[row, start + columns] = [rng.choice(4, p=SITE[:, c]) for c in columns]
    which = np.where(rng.random(n) < agree, y[:, 0], rng.integers(0, 2, n)).astype(int)
    code = {b: i for i, b in enumerate("ACGT")}
    adapters = np.array([[code[b] for b in a] for a in ADAPTERS])
    bases[:, :ADAPTER] = adapters[which]
    X = np.zeros((n, 4, LENGTH), np.uint8)
    X[np.arange(n)[:, None], bases, np.arange(LENGTH)] = 1
    return X, y


def run(kind: str, seed: int, n: int) -> dict:
    """Train one model of ``kind`` and score it on the shortcut-free test set."""
    X, y = library(n, agree=0.5 if kind == "no adapter" else 0.97, seed=seed)
    X_test, y_test = library(2000, agree=0.5, seed=1000 + seed)
    split = np.where(np.arange(n) < int(0.8 * n), "train", "valid")
    prior = PriorOptions([f"adapter:0:{ADAPTER}"]) if kind == "prior" else None
    priors = build_priors(prior, {"X": X, "y": y}, ["binary"])
    model, _, history = train_model(
        X, y, split, tasks=["binary"], rc_augment=False, priors=priors, seed=seed
    )
    auroc = score_predictions(y_test, predict(model, X_test), ["binary"])[0]["auroc"]
    _, attr, _ = attribute(model, X_test, method="grad_x_input")
    audit = shortcut_audit(attr, [("adapter", 0, ADAPTER)])["intervals"][0]
    return {
        "share": audit["attribution_fraction"],
        "auroc": auroc,
        "seconds": float(history["seconds"].mean()),
        "epochs": len(history),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n", type=int, default=6000, help="training + validation sequences")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = {kind: [] for kind in ("plain", "prior", "no adapter")}
    for seed in range(args.seeds):
        for kind, found in rows.items():
            found.append(run(kind, seed, args.n))
            print(kind, seed, found[-1], flush=True)
    plain = np.mean([r["seconds"] for r in rows["plain"]])
    print(f"\n{args.seeds} seeds, {args.n:,} sequences of {LENGTH} bp; adapter = bases 0-{ADAPTER}")
    print("| model | adapter share of |gxi| | shortcut-free test AUROC | s/epoch (× plain) |")
    print("|---|---|---|---|")
    for kind, found in rows.items():
        share, auroc = (np.array([r[k] for r in found]) for k in ("share", "auroc"))
        seconds = np.mean([r["seconds"] for r in found])
        print(
            f"| {kind} | {share.mean():.3f} ± {share.std():.3f} | {auroc.mean():.3f} ± "
            f"{auroc.std():.3f} | {seconds:.2f} ({seconds / plain:.1f}×) |"
        )
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
