"""Known answer on real peaks: SNVs that break CTCF sites against SNVs elsewhere in the
same peaks, scored by ``seqsal variants`` with the model of the CTCF example.

Run the example first (``snakemake --cores 2 --configfile config/examples/ctcf.yaml -d
runs/ctcf``), then ``python benchmarks/variants_ctcf.py runs/ctcf``. In ``--n`` peaks
holding a JASPAR MA0139 (CTCF) FIMO hit at p < 1e-5, one SNV replaces the hit's most
informative consensus base by the base CTCF likes least ("core"), one changes a random
base at least 5 bases from any hit ("background"). Printed: the AUROC of |delta| for core
against background, and the share of the core SNVs with a motif call that name CTCF.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from seqsal.io.fasta import open_fasta
from seqsal.io.meme import load_motif_database
from seqsal.tracks import scan_motifs


def snvs(fasta, names, ppm, n, seed=0):
    """Core and background SNVs in ``n`` peaks with a strong CTCF hit."""
    from seqsal.encode import one_hot_encode

    rng = np.random.default_rng(seed)
    sequences = [fasta[name][:] for name in names]
    hits = scan_motifs({"CTCF": ppm}, one_hot_encode(sequences), threshold=1e-5)
    bits = 2 + (ppm * np.log2(np.maximum(ppm, 1e-9))).sum(axis=0)
    rows, width = [], ppm.shape[1]
    for index, group in hits.groupby("region_index"):
        if len(rows) >= 2 * n:
            break
        sequence = sequences[index]
        hit = group.sort_values("p_value").iloc[0]
        site = sequence[hit["start"] : hit["end"]]
        codes = np.array(["ACGT".index(b) if b in "ACGT" else -1 for b in site])
        if hit["strand"] == "-":
            codes = np.where(codes >= 0, 3 - codes[::-1], -1)
        consensus = np.flatnonzero(codes == ppm.argmax(axis=0))
        if not len(consensus):
            continue
        column = consensus[np.argmax(bits[consensus])]
        alt = int(np.argmin(ppm[:, column]))
        if hit["strand"] == "+":
            offset = hit["start"] + column
        else:
            offset, alt = hit["end"] - 1 - column, 3 - alt
        rows.append((names[index], offset, sequence[offset], "ACGT"[alt], f"core_{index}"))
        busy = np.zeros(len(sequence), bool)
        for start in group["start"]:
            busy[max(0, start - 5) : start + width + 5] = True
        free = np.flatnonzero(~busy & np.isin(list(sequence), list("ACGT")))
        if len(free):
            offset = int(rng.choice(free))
            ref = sequence[offset]
            other = "ACGT"[("ACGT".index(ref) + int(rng.integers(1, 4))) % 4]
            rows.append((names[index], offset, ref, other, f"background_{index}"))
    return pd.DataFrame(rows, columns=["sequence", "offset", "ref", "alt", "name"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the folder of the CTCF example's run")
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    results = args.run / "results"
    fasta = open_fasta(results / "regions/library.fa")
    names = [n for n in fasta.keys() if not n.endswith("_shuffled")]
    database = load_motif_database("jaspar2024_vertebrates")
    key = next(k for k in database if k.split()[1] == "CTCF")
    table = snvs(fasta, names, database[key], args.n)
    path = args.run / "ctcf_snvs.tsv"
    table.to_csv(path, sep="\t", index=False)
    out = args.run / "ctcf_variants"
    command = [
        str(Path(sys.executable).parent / "seqsal"), "variants",
        "--model", str(results / "train/model.pt"),
        "--variants", str(path), "--regions", str(results / "regions/regions.bed"),
        "--fasta", str(results / "regions/library.fa"), "--motifs-meme",
        str(results / "motifs/motifs.meme"), "--mode", "library", "--no-oriented",
        "--out-dir", str(out),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    scored = pd.read_csv(out / "variants.tsv", sep="\t", keep_default_na=False, na_values=[""])
    core = scored["name"].str.startswith("core").to_numpy()
    size = scored["delta"].abs().to_numpy()
    auroc = mannwhitneyu(size[core], size[~core]).statistic / (core.sum() * (~core).sum())
    called = scored[core & scored["motif"].notna().to_numpy()]
    ctcf = called["motif"].str.contains("CTCF").mean() if len(called) else float("nan")
    print(
        f"{core.sum()} core and {(~core).sum()} background SNVs in {len(set(table.sequence))} peaks"
    )
    print(f"AUROC of |delta|, core vs background: {auroc:.3f}")
    print(f"core SNVs with a motif call: {len(called)}; naming CTCF: {ctcf:.1%}")


if __name__ == "__main__":
    main()
