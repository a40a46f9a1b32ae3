# ruff: noqa: I001 (seqsal is imported before torch, on purpose)
"""Benchmark: seqsal's training epoch against a bare PyTorch loop, in one process.

The bare loop is what a user would write: the same ``build_model(...)``, AdamW, MSE,
batch 64, the data as a float tensor in memory, a random order each epoch, then one
pass over the validation split. seqsal's epoch is ``Training.step()`` (the same work,
plus its bookkeeping: the random streams, the best-epoch copy, the log line). Rounds
alternate (seqsal, bare, seqsal, bare, ...) so that a noisy machine moves both alike;
the median epoch of each is printed with their ratio, at 1 and 2 threads, with and
without ``model.mutation_rate`` 0.05 (the bare loop mutates with torch on the batch).

Models and data: ``cnn`` on the demo's size (4,000 × 200 bp) and ``deepstarr`` on
``--n-reporter`` sequences of the reporter simulation (198 bp), reverse-complement
augmentation off in both (an oriented library); then peak RSS. With ``--load N``, N busy
processes (a Python loop each: Snakemake's other jobs, a shared node) run throughout.

    python benchmarks/train.py [--epochs 3] [--n-reporter 10000] [--models cnn deepstarr]
    python benchmarks/train.py --load 2 --models cnn   # on a busy machine
"""

from __future__ import annotations

import seqsal  # noqa: F401 (first: it sets OpenMP's passive wait before torch loads)

import argparse
import multiprocessing
import resource
import statistics
import time

import numpy as np
import torch

from seqsal.models import build_model
from seqsal.train.loop import Training
from seqsal.train.options import TrainingOptions


def data(arch: str, n_reporter: int) -> tuple:
    """One-hot X (uint8), targets and a 90/10 split."""
    if arch == "cnn":
        rng = np.random.default_rng(0)
        X = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (4000, 200))].transpose(0, 2, 1)
        y = rng.normal(size=(4000, 1)).astype(np.float32)
    else:
        from seqsal.encode import one_hot_encode
        from seqsal.simulate import simulate_reporter

        library = simulate_reporter(n_sequences=n_reporter, width=198, seed=0)[0]
        X = one_hot_encode(library["sequence"].tolist())
        y = library[["activity"]].to_numpy(np.float32)
    split = np.where(np.arange(len(X)) < 0.9 * len(X), "train", "valid")
    return np.ascontiguousarray(X), y, split


class Bare:
    """The loop a user writes: tensors in memory, one permutation per epoch."""

    def __init__(self, arch, X, y, split, mutation_rate, batch_size=64):
        torch.manual_seed(0)
        self.model = build_model(arch, input_length=X.shape[-1], n_outputs=y.shape[1])
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-3)
        self.X = torch.as_tensor(X).float()
        self.y = torch.as_tensor(np.array(y))
        self.train = torch.as_tensor(np.flatnonzero(split == "train"))
        self.valid = torch.as_tensor(np.flatnonzero(split == "valid"))
        self.rate, self.batch = mutation_rate, batch_size

    def step(self) -> None:
        self.model.train()
        order = self.train[torch.randperm(len(self.train))]
        for batch in order.split(self.batch):
            xb = self.X[batch]
            if self.rate:
                drawn = torch.rand(xb.shape[0], xb.shape[2]) < self.rate
                base = torch.nn.functional.one_hot(torch.randint(0, 4, drawn.shape), 4)
                xb = torch.where(drawn[:, None, :], base.permute(0, 2, 1).float(), xb)
            loss = torch.nn.functional.mse_loss(self.model(xb), self.y[batch])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        self.model.eval()
        with torch.no_grad():
            for batch in self.valid.split(256):
                self.model(self.X[batch])


def _spin():
    while True:
        pass


def timed(step) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def compare(arch, X, y, split, *, threads, mutation_rate, epochs) -> tuple:
    torch.set_num_threads(threads)
    options = TrainingOptions(
        arch=arch, max_epochs=10_000, patience=10_000, batch_size=64, rc_augment=False,
        mutation_rate=mutation_rate,
    )  # fmt: skip
    ours = Training(X, y, split, tasks=["regression"], options=options)
    bare = Bare(arch, X, y, split, mutation_rate)
    timed(ours.step), timed(bare.step)  # warm-up: allocators, kernels
    seqsal_s, bare_s = [], []
    for _ in range(epochs):
        seqsal_s.append(timed(ours.step))
        bare_s.append(timed(bare.step))
    return statistics.median(seqsal_s), statistics.median(bare_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n-reporter", type=int, default=10_000)
    parser.add_argument("--models", nargs="+", default=["cnn", "deepstarr"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--load", type=int, default=0, help="busy processes beside")
    args = parser.parse_args()
    busy = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.load)]
    for process in busy:
        process.start()
    print(f"{args.load} busy processes beside")
    print("model      threads mutation  seqsal s  bare s  ratio")
    for arch in args.models:
        X, y, split = data(arch, args.n_reporter)
        for threads in args.threads:
            for rate in (0.0, 0.05):
                ours, bare = compare(
                    arch, X, y, split, threads=threads, mutation_rate=rate, epochs=args.epochs
                )
                print(
                    f"{arch:10s} {threads:7d} {rate:8.2f} {ours:9.2f} {bare:7.2f} "
                    f"{ours / bare:6.2f}",
                    flush=True,
                )
    for process in busy:
        process.terminate()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
