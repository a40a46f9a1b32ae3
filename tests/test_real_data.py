"""Real data from ../shared/data (skipped with a reason when the folder is absent)."""

import shutil

import numpy as np
import pandas as pd
import pyBigWig
import pytest

from seqsal.attribute import attribute
from seqsal.encode import encode_regions, one_hot_encode, one_hot_to_sequences
from seqsal.io import InputError, contig_sizes, fetch_sequences, open_fasta, read_bed, read_meme
from seqsal.io.bigwig import write_bigwig
from seqsal.models import build_model
from seqsal.motifs import match_motifs
from seqsal.regions import prepare_regions
from seqsal.tracks import attribution_track, genome_positions


@pytest.fixture
def yeast(shared_data, tmp_path):
    """The yeast chrI FASTA copied to a writable folder (pyfaidx may write its index)."""
    fasta = tmp_path / "chrI.fa"
    shutil.copy(shared_data / "yeast_chrI" / "sacCer_R64_chrI.fa", fasta)
    return shared_data / "yeast_chrI", open_fasta(fasta)


def test_every_protein_coding_gene_starts_with_atg_on_its_own_strand(yeast):
    folder, fasta = yeast
    genes = read_bed(folder / "chrI_genes.bed")
    first = genes.copy()
    plus = genes["strand"] == "+"
    first["end"] = np.where(plus, genes["start"] + 3, genes["end"])
    first["start"] = np.where(plus, genes["start"], genes["end"] - 3)
    codons = one_hot_to_sequences(encode_regions(fetch_sequences(fasta, first), first["strand"]))
    assert sum(codon == "ATG" for codon in codons) >= 94
    assert set(genes["strand"]) == {"+", "-"}


def test_promoter_bigwig_equals_attributions_after_strand_mapping(yeast, tmp_path):
    folder, fasta = yeast
    sizes = contig_sizes(fasta)
    bed = read_bed(folder / "chrI_promoters_500bp_upstream.bed")
    regions, rejected = prepare_regions(bed, sizes, width=200)
    assert len(regions) + len(rejected) == len(bed)
    regions = pd.concat([regions[regions["strand"] == s].head(4) for s in "+-"], ignore_index=True)
    X = encode_regions(fetch_sequences(fasta, regions), regions["strand"])
    _, attr, _ = attribute(build_model("cnn", input_length=200, n_outputs=1), X)
    write_bigwig(attribution_track(regions, attr, contigs=list(sizes)), sizes, tmp_path / "a.bw")
    bw = pyBigWig.open(str(tmp_path / "a.bw"))
    assert bw.chroms() == sizes
    positions = genome_positions(regions, 200)
    for i in range(len(regions)):
        values = np.array(
            bw.values(regions["chrom"][i], int(positions[i].min()), int(positions[i].max()) + 1)
        )
        expected = attr[i][np.argsort(positions[i])]
        covered_by_other = np.zeros(200, bool)  # overlapping promoters: nearest center wins
        for j in range(len(regions)):
            if j != i:
                covered_by_other |= np.isin(np.sort(positions[i]), positions[j])
        np.testing.assert_allclose(
            values[~covered_by_other], expected[~covered_by_other], rtol=1e-6
        )
    outside = int(regions["end"].max()) + 1000
    assert np.isnan(bw.values(regions["chrom"][0], outside, outside + 1)[0])


def test_plain_gzip_ctcf_fasta_is_refused_with_the_fix(shared_data):
    with pytest.raises(InputError, match="found plain gzip; recompress it with"):
        open_fasta(shared_data / "ctcf_peaks" / "ctcf.fa.gz")


def test_ground_truth_motifs_are_named_in_their_families(shared_data):
    truth = read_meme(
        shared_data / "tal_gata_sim" / "ground_truth_motifs_TAL1_known1_GATA_disc1.meme"
    )
    database = read_meme(shared_data / "jaspar" / "JASPAR2024_CORE_vertebrates_nonredundant.meme")
    matches = match_motifs(list(truth.values()), database)
    best = matches[matches["rank"] == 1].set_index("query")["target"]
    names = {key.split()[0]: best.get(i, "none").split(" ", 1)[-1] for i, key in enumerate(truth)}
    gata = next(v for k, v in names.items() if "GATA" in k)
    tal1 = next(v for k, v in names.items() if "TAL1" in k)
    assert gata.upper().startswith("GATA") and "TAL1" in tal1.upper()


def test_ctcf_peaks_as_library_and_as_genome_regions(shared_data, tmp_path, capsys):
    from seqsal.cli import main
    from seqsal.encode import one_hot_encode, reverse_complement
    from seqsal.io import read_npz, read_sequences

    peaks = shared_data / "ctcf_peaks" / "ctcf.fa.gz"
    library = tmp_path / "library"
    assert (
        main(
            [
                "regions",
                "--mode",
                "library",
                "--fasta",
                str(peaks),
                "--width",
                "100",
                "--out-dir",
                str(library),
            ]
        )
        == 0
    )
    regions = pd.read_csv(library / "regions.bed", sep="\t", header=None)
    assert len(regions) == 39184 and pd.read_csv(library / "rejected.tsv", sep="\t").empty
    assert regions[0].iloc[0].startswith("chr") and ":" in regions[0].iloc[0]
    assert (
        main(
            [
                "encode",
                "--regions",
                str(library / "regions.bed"),
                "--fasta",
                str(library / "library.fa"),
                "--n-shards",
                "100",
                "--shard",
                "0",
                "--out",
                str(tmp_path / "lib.npz"),
            ]
        )
        == 0
    )
    lib = read_npz(tmp_path / "lib.npz")
    sequences = read_sequences(peaks)
    first = [sequences[name] for name in lib["names"]]
    assert any(s != s.upper() for s in first)  # soft-masked input ...
    np.testing.assert_array_equal(
        lib["X"], one_hot_encode([s.upper() for s in first])
    )  # ... read upper

    # the same peaks as regions of a genome built from them, on both strands
    names = list(lib["names"])
    (tmp_path / "genome.fa").write_text(">peaks\n" + "".join(sequences[n] for n in names) + "\n")
    bed = "".join(
        f"peaks\t{100 * i}\t{100 * i + 100}\t{n}\t0\t{'+-'[i % 2]}\n" for i, n in enumerate(names)
    )
    (tmp_path / "peaks.bed").write_text(bed)
    genome = tmp_path / "genome"
    assert (
        main(
            [
                "regions",
                "--bed",
                str(tmp_path / "peaks.bed"),
                "--fasta",
                str(tmp_path / "genome.fa"),
                "--width",
                "100",
                "--out-dir",
                str(genome),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "encode",
                "--regions",
                str(genome / "regions.bed"),
                "--fasta",
                str(tmp_path / "genome.fa"),
                "--out",
                str(tmp_path / "genome.npz"),
            ]
        )
        == 0
    )
    X = read_npz(tmp_path / "genome.npz")["X"]
    np.testing.assert_array_equal(X[0::2], lib["X"][0::2])
    np.testing.assert_array_equal(X[1::2], reverse_complement(lib["X"][1::2]))
    capsys.readouterr()


def test_a_tiled_chromosome_trains_without_a_test_base_in_training(shared_data):
    """The new user's case: one yeast chromosome tiled into overlapping windows, labelled
    by whether a window holds a promoter. One contig cannot be held out whole: the test
    set is contiguous blocks, no test window shares a base with a training window, and
    the metrics say so."""
    from seqsal.train import fit

    text = (shared_data / "yeast_chrI" / "sacCer_R64_chrI.fa").read_text().splitlines()
    genome = "".join(line.strip() for line in text if not line.startswith(">"))
    starts = np.arange(0, len(genome) - 400, 200)
    regions = pd.DataFrame({"chrom": "NC_001133.9", "start": starts, "end": starts + 400})
    promoters = read_bed(shared_data / "yeast_chrI" / "chrI_promoters_500bp_upstream.bed")
    centres = ((promoters["start"] + promoters["end"]) // 2).to_numpy()
    y = (centres[None, :] >= starts[:, None]) & (centres[None, :] < starts[:, None] + 400)
    data = {
        "X": one_hot_encode([genome[s : s + 400] for s in starts]),
        "y": y.any(axis=1, keepdims=True).astype(np.float32),
        "chroms": regions["chrom"].to_numpy(),
        "names": np.array([f"w{i}" for i in range(len(starts))]),
        "targets": ["promoter"],
    }
    result = fit(data, regions=regions, max_epochs=1, hparams={"n_filters": 8})
    metrics = result["metrics"]
    assert metrics["split_shared"] == {"test_regions_sharing_bases": 0, "most_shared_bases": 0}
    assert metrics["split"].endswith("test regions in contiguous blocks of NC_001133.9")
    assert metrics["split_sizes"]["test"] >= 50 and metrics["split_sizes"]["train"] >= 700
