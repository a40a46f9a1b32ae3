import numpy as np

from seqsal.simulate import simulate_demo

MOTIFS = {
    "AAA": np.array([[0.97, 0.01, 0.01, 0.01]] * 6).T,
    "GGG": np.array([[0.01, 0.01, 0.97, 0.01]] * 8).T,
}


def simulate(seed=0):
    return simulate_demo(
        MOTIFS, n_regions=60, n_contigs=3, contig_length=10_000, width=100, seed=seed
    )


def test_same_seed_same_output_other_seed_differs():
    a, b, c = simulate(0), simulate(0), simulate(1)
    assert a[0] == b[0] and all(x.equals(y) for x, y in zip(a[1:], b[1:]))
    assert a[0] != c[0]


def test_truth_matches_genome_and_lies_in_its_region():
    genome, regions, _, truth = simulate()
    by_name = regions.set_index("name")
    complement = str.maketrans("ACGT", "TGCA")
    for site in truth.itertuples():
        text = genome[site.chrom][site.start : site.end]
        if site.strand == "-":
            text = text.translate(complement)[::-1]
        assert set(text) <= {"A", "G"}  # the sampled instances of these near-pure motifs
        region = by_name.loc[site.region]
        assert region.chrom == site.chrom and region.start <= site.start < site.end <= region.end


def test_regions_do_not_overlap_and_labels_follow_motifs():
    genome, regions, labels, truth = simulate()
    for _, group in regions.groupby("chrom"):
        starts = np.sort(group["start"].to_numpy())
        assert (np.diff(starts) >= 100).all()
    assert set(genome) == {"chr1", "chr2", "chr3"} and all(
        len(s) == 10_000 for s in genome.values()
    )
    counts = truth.groupby("region").size().reindex(labels["name"], fill_value=0)
    assert np.corrcoef(counts.to_numpy(), labels["activity"])[0, 1] > 0.8
    assert counts.max() <= 3


def test_select_motifs_by_tf_name_in_order_or_name_the_missing():
    import pytest

    from seqsal.errors import InputError
    from seqsal.simulate import select_motifs

    database = {"MA1 GATA1": np.ones((4, 5)) / 4, "MA2 TAL1::TCF3": np.ones((4, 9)) / 4}
    chosen = select_motifs(database, ["TAL1::TCF3", "GATA1"])
    assert list(chosen) == ["TAL1::TCF3", "GATA1"] and chosen["GATA1"].shape == (4, 5)
    with pytest.raises(InputError, match=r"simulate.motifs: .*\['GATA9'\]"):
        select_motifs(database, ["GATA1", "GATA9"])


def test_reporter_library_plants_forward_boxes_at_their_positions():
    from seqsal.simulate import REPORTER_BOXES, simulate_reporter

    library, truth, elements = simulate_reporter(n_sequences=400, n_backgrounds=20, seed=1)
    assert list(library.columns) == ["name", "sequence", "activity", "background"]
    assert library["sequence"].str.len().eq(150).all() and library["background"].nunique() == 20
    consensus = {name.split()[0]: box for name, box in REPORTER_BOXES.items()}
    sequences = library.set_index("name")["sequence"]
    for site in truth.itertuples():
        planted = sequences[site.chrom][site.start : site.end]
        mismatches = sum(a != b for a, b in zip(planted, consensus[site.name]))
        assert site.strand == "+" and mismatches <= 2 and site.score == 1000 - 100 * mismatches
    assert set(truth.loc[truth["name"] == "minus35", "start"]) == {50}  # A at its position
    assert sequences.str[56:63].eq("CGCAGCA").all()  # the constant flank after box A
    assert (sequences.str.count("CGCAGCA") >= 2).all()  # and after box B, wherever it is
    assert truth.loc[truth["name"] == "minus10", "start"].mode()[0] == 50 + 6 + 17
    # the output follows the boxes: constructs with both far above those with neither
    boxes = truth.groupby("chrom")["name"].nunique().reindex(library["name"], fill_value=0)
    activity = library.set_index("name")["activity"]
    assert activity[boxes.to_numpy() == 2].mean() > activity[boxes.to_numpy() == 0].mean() + 2
    assert list(elements) == list(REPORTER_BOXES) and all(
        p.shape == (4, 6) for p in elements.values()
    )
    np.testing.assert_allclose(sum(elements.values()).sum(axis=0), 2.0)
