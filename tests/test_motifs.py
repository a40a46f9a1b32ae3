import numpy as np
import pandas as pd
import pytest

from seqsal.encode import one_hot_encode, reverse_complement
from seqsal.io import read_meme
from seqsal.motifs import (
    assign_seqlets,
    build_motifs,
    cluster_seqlets,
    extract_windows,
    match_motifs,
    motif_table,
    sequence_background,
    trim_span,
)


def test_extract_windows_pads_with_zeros_at_edges():
    X = one_hot_encode(["ACGTACGT"])
    windows = extract_windows(X, [0, 0], [-2, 5], width=4)
    assert windows.shape == (2, 4, 4)
    assert windows[0, :, :2].sum() == 0 and windows[0, :, 2:].sum() == 2
    assert windows[1, :, 3].sum() == 0
    np.testing.assert_array_equal(windows[1, :, :3], X[0, :, 5:8])


def planted_windows(seed=0, n=60, width=16):
    """Contribution windows holding GATAAG or CACGTG, shifted and on either strand."""
    rng = np.random.default_rng(seed)
    sequences, truth = [], []
    for i in range(n):
        motif = "GATAAG" if i % 2 else "CACCTG"
        seq = list(rng.choice(list("ACGT"), size=width))
        start = int(rng.integers(2, width - 8))
        seq[start : start + 6] = motif
        sequences.append("".join(seq))
        truth.append(i % 2)
    X = one_hot_encode(sequences)
    contrib = np.zeros(X.shape, np.float32)
    for i, seq in enumerate(sequences):
        start = seq.find("GATAAG") if truth[i] else seq.find("CACCTG")
        contrib[i, :, start : start + 6] = X[i, :, start : start + 6]
    flip = rng.random(n) < 0.5
    X[flip], contrib[flip] = reverse_complement(X[flip]), reverse_complement(contrib[flip])
    return X, contrib, np.array(truth)


def test_clustering_separates_motifs_across_shifts_and_strands():
    X, contrib, truth = planted_windows()
    labels, shift, strand = cluster_seqlets(contrib, contrib.sum(axis=(1, 2)), min_seqlets=5)
    assert set(labels) == {0, 1}
    for k in (0, 1):
        assert len(set(truth[labels == k])) == 1
    motifs = build_motifs(X, contrib, labels, shift, strand)
    consensus = {"".join("ACGT"[j] for j in m["ppm"].argmax(axis=0)) for m in motifs}
    rc = {"GATAAG": "CTTATC", "CACCTG": "CAGGTG"}
    for expected in rc:
        assert expected in consensus or rc[expected] in consensus
    assert all(m["n_seqlets"] == 30 and m["sign"] == 1 for m in motifs)


def test_small_clusters_are_dissolved():
    X, contrib, _ = planted_windows(n=10)
    labels, _, _ = cluster_seqlets(contrib, np.ones(10), min_seqlets=20)
    assert (labels == -1).all()


def test_trim_span():
    cwm = np.zeros((4, 10))
    cwm[0, 3], cwm[1, 6], cwm[2, 8] = 1.0, 0.5, 0.1
    assert trim_span(cwm, fraction=0.25) == slice(3, 7)
    # a PPM informative from 2 to 8 widens the span; flat columns do not
    ppm = np.full((4, 10), 0.25)
    ppm[:, 2] = ppm[:, 8] = [0.8, 0.1, 0.05, 0.05]
    ppm[:, 5] = [1.0, 0.0, 0.0, 0.0]
    assert trim_span(cwm, ppm, fraction=0.25, ic_fraction=0.35) == slice(2, 9)
    assert trim_span(cwm, ppm, fraction=0.25, ic_fraction=0.9) == slice(3, 7)


def test_assign_seqlets_maps_motif_strand_to_genome():
    seqlets = pd.DataFrame({"name": ["a", "b", "c", "d"]})
    out = assign_seqlets(
        seqlets, ["+", "-", "-", "+"], np.array([0, 0, 1, -1]), np.array([0, 0, 1, 0])
    )
    assert out["motif_id"].tolist() == ["motif_1", "motif_1", "motif_2", "none"]
    assert out["strand"].tolist() == ["+", "-", "+", "."]


def test_tomtom_names_planted_jaspar_motifs_and_not_noise(shared_data):
    database = read_meme(shared_data / "jaspar" / "JASPAR2024_CORE_vertebrates_nonredundant.meme")
    gata = next(v for k, v in database.items() if k.endswith(" GATA1"))
    rng = np.random.default_rng(0)
    flat = rng.dirichlet(np.ones(4) * 50, size=8).T
    matches = match_motifs([reverse_complement(gata[None])[0], flat], database)
    gata_key = next(k for k in database if k.endswith(" GATA1"))
    table = motif_table(
        [{"ppm": gata, "n_seqlets": 5, "sign": 1}, {"ppm": flat, "n_seqlets": 5, "sign": 1}],
        matches,
        families={gata_key: "C4-GATA-related"},
    )
    assert table["name"].tolist()[0] == "GATA1" and float(table["match_1_q"][0]) < 0.05
    assert table["status"].tolist() == ["named", "novel"]
    assert table["family"].tolist() == ["C4-GATA-related", ""]


@pytest.mark.parametrize("strand", ["+", "-"])
def test_match_alignment_places_a_slice_where_it_came_from(shared_data, strand):
    """A query cut from columns 3..11 of CTCF aligns at offset 3 on the strand it was cut
    from; drawn with it, the match's logo spans the motif's columns and its own."""
    from seqsal.plots import motif_logos

    database = read_meme(shared_data / "jaspar" / "JASPAR2024_CORE_vertebrates_nonredundant.meme")
    ctcf = database["MA0139.2 CTCF"]
    target = ctcf if strand == "+" else reverse_complement(ctcf[None])[0]
    query = target[:, 3:12]
    best = match_motifs([query], database).iloc[0]
    assert (best["target"], best["offset"], best["strand"]) == ("MA0139.2 CTCF", 3, strand)
    fig = motif_logos(query, query - 0.25, match={**best, "label": "CTCF", "ppm": ctcf})
    assert len(fig.axes) == 6
    assert {ax.get_xlim() for ax in fig.axes} == {(-0.5, ctcf.shape[1] - 0.5)}


def test_built_in_jaspar_database_has_the_shared_files_motifs(shared_data):
    from seqsal.io import load_motif_database

    built_in = load_motif_database("jaspar2024_vertebrates")
    shared = read_meme(shared_data / "jaspar" / "JASPAR2024_CORE_vertebrates_nonredundant.meme")
    assert set(built_in) == set(shared)
    key = next(iter(shared))
    np.testing.assert_allclose(built_in[key], shared[key], atol=1e-3)
    assert built_in.families["MA0091.2 TAL1::TCF3"] == "Tal-related; E2A"
    assert built_in.families["MA0482.3 GATA4"] == "C4-GATA-related"
    # JASPAR gives MA1618 no family; the TF's other matrices (MA1619, MA1620) do
    assert built_in.families["MA1618.2 Ptf1A"] == built_in.families["MA1619.2 Ptf1A"]


def test_unknown_database_name():
    from seqsal.io import InputError, load_motif_database

    with pytest.raises(InputError, match="motifs.database: expected 'jaspar<year>_<taxon>'"):
        load_motif_database("hocomoco")


def test_sequence_background_is_the_composition_of_both_strands():
    X = one_hot_encode(["AAAC", "ACGN"])  # 4 A, 2 C, 1 G, 0 T
    freqs = sequence_background(X, block=1)
    assert freqs == pytest.approx(np.array([4, 3, 3, 4]) / 14)  # averaged with the RC
    assert freqs.sum() == pytest.approx(1) and freqs == pytest.approx(freqs[::-1])
    assert sequence_background(np.zeros((2, 4, 5), np.uint8)) == pytest.approx([0.25] * 4)
