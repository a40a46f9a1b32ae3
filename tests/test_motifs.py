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
from seqsal.seqlets import benjamini_hochberg


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
    # the novel motif still lists its three nearest database motifs, with q and p
    novel = table.iloc[1]
    assert all(novel[f"match_{k}"] for k in (1, 2, 3)) and novel["name"] == "novel"
    assert all(float(novel[f"match_{k}_p"]) <= float(novel[f"match_{k}_q"]) for k in (1, 2, 3))


def test_decoys_give_the_p_values_of_a_larger_search_and_q_counts_the_database(shared_data):
    """Two motifs of the user's own: with JASPAR as TOMTOM's background decoys, a query's
    p-values are those it gets against the two motifs plus JASPAR; its q-values are
    Benjamini-Hochberg over the two motifs alone."""
    jaspar = read_meme(shared_data / "jaspar" / "JASPAR2024_CORE_vertebrates_nonredundant.meme")
    mine = {k: v for k, v in jaspar.items() if k.endswith((" GATA1", " TAL1::TCF3"))}
    mine = {f"USER{i} {k.split()[1]}": v for i, (k, v) in enumerate(mine.items())}
    rng = np.random.default_rng(0)
    gata = next(v for k, v in mine.items() if k.endswith("GATA1"))
    query = np.clip(gata + rng.normal(0, 0.05, gata.shape), 0.01, None)
    query /= query.sum(axis=0)
    padded = match_motifs([query], mine, decoys=jaspar)
    together = match_motifs([query], {**mine, **jaspar}, n_matches=len(jaspar) + 2)
    ours, theirs = padded.set_index("target"), together.set_index("target")
    for target in mine:
        assert ours.loc[target, "p_value"] == pytest.approx(theirs.loc[target, "p_value"])
    p = ours.loc[list(mine), "p_value"].to_numpy()
    assert ours.loc[list(mine), "q_value"].to_numpy() == pytest.approx(benjamini_hochberg(p))
    assert padded["target"].isin(list(mine)).all()  # decoys are never reported


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


def test_modisco_layout_places_each_seqlet_on_its_region():
    """Each seqlet of the h5 layout, cut from its region at start:end (reverse-complemented
    when is_revcomp), is the aligned, trimmed window the motif was built from."""
    from seqsal.encode import reverse_complement
    from seqsal.motifs import align_windows, modisco_layout

    rng = np.random.default_rng(0)
    X = one_hot_encode(["".join(rng.choice(list("ACGT"), 60)) for _ in range(5)])
    n, width, max_shift = 40, 14, 2
    index, start = rng.integers(0, 5, n), rng.integers(5, 40, n)
    onehot = extract_windows(X, index, start, width=width).astype(np.float32)
    labels, shift, strand = rng.integers(0, 2, n), rng.integers(-2, 3, n), rng.integers(0, 2, n)
    motifs = build_motifs(onehot, onehot, labels, shift, strand, max_shift=max_shift)
    for motif in motifs:  # random windows do not trim: trim by hand, clear of the padding
        motif["span"] = slice(max_shift, width - max_shift)
    seqs = align_windows(onehot, shift, strand, max_shift)
    oriented = {key: seqs for key in ("sequence", "contrib_scores", "hypothetical_contribs")}
    patterns = modisco_layout(motifs, oriented, index, start, labels, shift, strand)
    checked = 0
    for k, pattern in enumerate(patterns):
        s = pattern["seqlets"]
        assert len(s["start"]) == (labels == k).sum() == motifs[k]["n_seqlets"]
        np.testing.assert_allclose(pattern["sequence"], s["sequence"].mean(axis=0))
        for i in range(len(s["start"])):
            a, b = s["start"][i], s["end"][i]
            cut = X[s["example_idx"][i]][:, a:b].astype(np.float32)
            if s["is_revcomp"][i]:
                cut = reverse_complement(cut[None])[0]
            np.testing.assert_array_equal(cut.T, s["sequence"][i])
            checked += 1
    assert checked == n


def test_modisco_h5_round_trip_and_modisco_lite_reads_it(tmp_path):
    from seqsal.io.modisco import read_modisco_h5, write_modisco_h5

    rng = np.random.default_rng(1)

    def pattern(motif_id, sign, n, length=8):
        arrays = {k: rng.random((n, length, 4)) for k in ("sequence", "contrib_scores")}
        arrays["hypothetical_contribs"] = rng.normal(size=(n, length, 4))
        seqlets = {"start": rng.integers(0, 90, n), "example_idx": rng.integers(0, 9, n)}
        seqlets.update(end=seqlets["start"] + length, is_revcomp=rng.random(n) < 0.5)
        return {
            "motif_id": motif_id,
            "sign": sign,
            **{k: v.mean(axis=0) for k, v in arrays.items()},
            "seqlets": {**seqlets, **arrays},
        }

    patterns = [pattern("motif_1", 1, 30), pattern("motif_2", -1, 25), pattern("motif_3", 1, 20)]
    write_modisco_h5(patterns, tmp_path / "modisco.h5", window_size=10)
    write_modisco_h5(patterns, tmp_path / "again.h5", window_size=10)
    assert (tmp_path / "again.h5").read_bytes() == (tmp_path / "modisco.h5").read_bytes()
    back = read_modisco_h5(tmp_path / "modisco.h5")
    assert [p["motif_id"] for p in back] == ["motif_1", "motif_3", "motif_2"]  # pos, then neg
    for ours in back:
        original = next(p for p in patterns if p["motif_id"] == ours["motif_id"])
        assert ours["sign"] == original["sign"]
        np.testing.assert_allclose(ours["contrib_scores"], original["contrib_scores"], rtol=1e-6)
        assert ours["seqlets"]["start"].tolist() == original["seqlets"]["start"].tolist()
    modisco_io = pytest.importorskip("modiscolite.io", reason="modisco-lite is not installed")
    from modiscolite.util import MemeDataType

    meme = tmp_path / "from_h5.meme"
    modisco_io.write_meme_from_h5(str(tmp_path / "modisco.h5"), MemeDataType.PFM, str(meme), True)
    assert meme.read_text().count("MOTIF ") == 3  # modisco-lite's own reader takes the file


def test_seqlets_take_the_modisco_motif_they_overlap_most():
    from seqsal.motifs import assign_by_overlap

    def motif(regions, starts, rc):
        starts = np.array(starts)
        seqlets = {"example_idx": np.array(regions), "start": starts, "end": starts + 10}
        return {"pattern": {"seqlets": {**seqlets, "is_revcomp": np.array(rc)}}}

    motifs = [motif([0, 1], [10, 50], [False, True]), motif([0], [16], [True])]
    # seqlet 0 overlaps motif 0 by 6 and motif 1 by 10; seqlet 1 only motif 0 (region 1);
    # seqlet 2 lies in region 1 but outside; seqlet 3 is in a region without any
    labels, strand = assign_by_overlap(motifs, [0, 1, 1, 2], [16, 55, 80, 10], [10, 10, 10, 10])
    assert labels.tolist() == [1, 0, -1, -1] and strand.tolist() == [1, 1, 0, 0]
    assert assign_by_overlap([], [0], [3], [10])[0].tolist() == [-1]


def test_modisco_engine_turns_patterns_into_named_motifs(monkeypatch):
    """motifs.engine: modisco, with TF-MoDISco replaced by a stand-in that returns one
    positive pattern (GATA) found at known places: the motif, its name, its h5 layout and
    each of seqsal's seqlets' assignment follow from them."""
    import sys
    import types

    from seqsal.motifs import discover_motifs

    gata = one_hot_encode(["AGATAAGG"])[0].astype(np.float32)  # (4, 8)
    sites = [(0, 10, False), (1, 30, True), (2, 5, False)]
    seqlets = [
        types.SimpleNamespace(
            example_idx=r,
            start=a,
            end=a + 8,
            is_revcomp=rc,
            sequence=gata.T,
            contrib_scores=gata.T,
            hypothetical_contribs=gata.T,
        )
        for r, a, rc in sites
    ]
    pattern = types.SimpleNamespace(
        sequence=gata.T, contrib_scores=gata.T, hypothetical_contribs=gata.T, seqlets=seqlets
    )
    fake = types.ModuleType("modiscolite.tfmodisco")
    fake.TFMoDISco = lambda **kwargs: ([pattern], None)
    monkeypatch.setitem(sys.modules, "modiscolite", types.ModuleType("modiscolite"))
    monkeypatch.setitem(sys.modules, "modiscolite.tfmodisco", fake)
    X = one_hot_encode(["ACGT" * 15] * 3)
    regions = pd.DataFrame(
        {"chrom": ["c1", "c2", "c3"], "start": 0, "end": 60, "name": ["a", "b", "c"]}
        | {"score": 0, "strand": ["+", "-", "+"], "pad_left": 0, "pad_right": 0}
    )
    seqlets_bed = pd.DataFrame(
        {"chrom": ["c1", "c2", "c3"], "start": [12, 20, 50], "end": [22, 30, 60]}
        | {"name": ["a:0", "b:0", "c:0"], "region": ["a", "b", "c"], "attr_sum": 1.0}
    )
    rng = np.random.default_rng(0)
    database = {f"MA9{k:03d}.1 decoy{k}": rng.dirichlet(np.ones(4), 8).T for k in range(40)}
    database["MA0035.5 GATA1"] = gata * 0.9 + 0.025
    motifs, table, assignments = discover_motifs(
        X, X.astype(np.float32), seqlets_bed, regions, database, engine="modisco", min_seqlets=2
    )
    assert len(motifs) == 1 and motifs[0]["n_seqlets"] == 3 and motifs[0]["sign"] == 1
    assert table["name"].tolist() == ["GATA1"] and table["status"].tolist() == ["named"]
    np.testing.assert_allclose(motifs[0]["ppm"].sum(axis=0), 1)
    assert motifs[0]["pattern"]["seqlets"]["start"].tolist() == [10, 30, 5]
    # a:0 (12-22) overlaps the site at 10-18; b:0 lies at 30-40 on its own strand (the
    # region is '-': genome 20-30), over the site 30-38, read reversed there; c:0 none
    assert assignments["motif_id"].tolist() == ["motif_1", "motif_1", "none"]
    assert assignments["strand"].tolist() == ["+", "+", "."]


def test_several_collections_load_as_one_database(tmp_path):
    from seqsal.io import InputError, load_motif_database
    from seqsal.io.meme import write_meme

    plants = load_motif_database("jaspar2024_plants")
    both = load_motif_database("jaspar2024_plants, jaspar2024_vertebrates")
    vertebrates = load_motif_database("jaspar2024_vertebrates")
    assert set(both) == set(plants) | set(vertebrates)
    assert both.families.keys() >= plants.families.keys() | vertebrates.families.keys()
    own = tmp_path / "own.meme"
    write_meme({"box1 TATAAT": np.full((4, 6), 0.25)}, own)
    mixed = load_motif_database(f"{own},jaspar2024_plants")
    assert len(mixed) == len(plants) + 1 and "box1 TATAAT" in mixed
    with pytest.raises(InputError, match="found 'hocomoco'"):
        load_motif_database("jaspar2024_plants, hocomoco")


def test_seqlets_left_by_a_stronger_motif_seed_a_motif_of_their_own():
    """The strongest seqlet looks like A and a little like B, so B gets no greedy seed;
    once A's centroid sharpens, B's seqlets are left over and seed their own motif."""
    from seqsal.motifs import cluster_seqlets

    def window(columns, weight=1.0):
        w = np.zeros((4, 10), np.float32)
        for position, base in columns:
            w["ACGT".index(base), position] = weight
        return w

    a = window([(p, "A") for p in range(2, 8)])
    b = window([(2, "A"), (3, "A")] + [(p, "C") for p in range(4, 8)])
    seed = a + window([(p, "C") for p in range(4, 8)], 0.8)
    windows = np.stack([seed] + [a] * 200 + [b] * 40)
    strength = np.r_[10.0, np.ones(200), np.full(40, 0.5)]
    labels, _, _ = cluster_seqlets(windows, strength, max_shift=0, both_strands=False)
    assert (labels[1:201] == 0).all() and (labels[201:] == 1).all()


def _library_with_flank(rng, n=400, width=60, flank="CGCAGCA"):
    """Random sequences, each with the same flank at a position that varies by up to 6."""
    sequences = []
    for _ in range(n):
        seq = list(rng.choice(list("ACGT"), size=width))
        at = 20 + int(rng.integers(0, 7))
        seq[at : at + len(flank)] = flank
        sequences.append("".join(seq))
    return one_hot_encode(sequences)


def test_the_stretch_every_sequence_shares_is_found_wherever_it_sits():
    from seqsal.constant import find_constant, shared_length

    rng = np.random.default_rng(0)
    X = _library_with_flank(rng)
    constant = find_constant(X)
    assert constant.stretches == ("CGCAGCA",) and constant.k == shared_length(60) == 6
    mask = constant.mask(X)
    assert (mask.sum(axis=1) >= 7).all()  # every copy covered (a chance hit may add more)
    random = one_hot_encode(["".join(rng.choice(list("ACGT"), size=1000)) for _ in range(300)])
    assert not find_constant(random) and not find_constant(random).mask(random).any()


def test_trimming_never_keeps_a_constant_column():
    cwm = np.zeros((4, 12))
    cwm[0, 2:8] = 1.0  # the core, 2..7
    ppm = np.full((4, 12), 0.25)
    ppm[:, 8:12] = np.eye(4)[[1, 2, 1, 0]].T  # a constant flank: fully informative
    assert trim_span(cwm, ppm) == slice(2, 12)
    constant = np.zeros(12, bool)
    constant[8:] = True
    assert trim_span(cwm, ppm, constant=constant) == slice(2, 8)
    assert trim_span(cwm, ppm, constant=np.ones(12, bool)) == slice(2, 12)  # all: as if none


@pytest.mark.parametrize("reverse", [False, True])
def test_core_match_finds_a_shifted_copy_on_either_strand(reverse):
    from seqsal.motifs import core_match

    rng = np.random.default_rng(1)
    core = np.abs(rng.normal(size=(4, 6)))  # a positive motif's contributions
    other = np.concatenate([np.zeros((4, 2)), core, np.zeros((4, 1))], axis=1)
    if reverse:
        other = reverse_complement(other[None])[0]
    similarity, offset, flipped = core_match(core, other)
    assert similarity == pytest.approx(1.0) and flipped == reverse
    if not reverse:
        assert offset == -2  # core's column t faces other's t + 2
    assert core_match(core, -other)[0] <= 0  # opposite signs never match


def test_one_element_split_in_two_motifs_is_merged_and_rebuilt_whole():
    """Windows of GATAAG on either strand, clustered as two motifs by hand (one of them
    seen on the other strand): merged, the seqlets re-aligned build one GATAAG motif."""
    from seqsal.motifs import merge_motifs

    X, contrib, truth = planted_windows(seed=3, n=120)
    X, contrib = X[truth == 1], contrib[truth == 1]
    n, width = len(X), X.shape[-1]
    labels, shift, strand = cluster_seqlets(contrib, contrib.sum(axis=(1, 2)), min_seqlets=5)
    assert set(labels) == {0}
    half = np.arange(n) % 2 == 1  # motif 1: its members seen on the other strand, 1 base on
    strand2, shift2 = np.where(half, 1 - strand, strand), shift.copy()
    shift2[half] = width - 1 - (shift[half] + width - 1) + 1  # still in range
    labels2 = half.astype(int)
    motifs = build_motifs(X, contrib, labels2, shift2, strand2, max_shift=width)
    merged_labels, merged_shift, merged_strand, variants = merge_motifs(
        motifs, labels2, shift2, strand2, width=width
    )
    assert set(merged_labels) == {0} and len(variants) == 1 and len(variants[0]) == 2
    (whole,) = build_motifs(X, contrib, merged_labels, merged_shift, merged_strand, max_shift=width)
    core = "".join("ACGT"[j] for j in whole["ppm"].argmax(axis=0))
    assert core in ("GATAAG", "CTTATC") and whole["n_seqlets"] == n
    assert whole["ppm"].max(axis=0).min() > 0.9  # every member aligned on the same bases


def test_oriented_sequences_keep_a_reversed_element_apart_and_name_the_pair():
    """Read as oriented, the same two hand-made motifs (one the other's reverse
    complement) stay two, and reverse_pairs names the pair; forward copies are no pair."""
    from seqsal.motifs import merge_motifs, reverse_pairs

    X, contrib, truth = planted_windows(seed=3, n=120)
    X, contrib = X[truth == 1], contrib[truth == 1]
    n, width = len(X), X.shape[-1]
    labels, shift, strand = cluster_seqlets(contrib, contrib.sum(axis=(1, 2)), min_seqlets=5)
    half = np.arange(n) % 2 == 1
    strand2 = np.where(half, 1 - strand, strand)
    shift2 = shift.copy()
    shift2[half] = width - 1 - (shift[half] + width - 1) + 1
    motifs = build_motifs(X, contrib, half.astype(int), shift2, strand2, max_shift=width)
    kept, *_, variants = merge_motifs(
        motifs, half.astype(int), shift2, strand2, width=width, both_strands=False
    )
    assert len(variants) == 2 and set(kept) == {0, 1}
    assert reverse_pairs(motifs) == {1: 0}
    assert reverse_pairs([motifs[0], motifs[0]]) == {}  # the same strand twice: merged, no pair


def test_own_decoys_keep_each_columns_information_and_name_a_true_match():
    from seqsal.motifs import information_bits, own_decoys

    rng = np.random.default_rng(0)
    database = {
        "minus10 TATAAT": np.eye(4)[[3, 0, 3, 0, 0, 3]].T * 0.85 + 0.0375,
        "minus35 TTGACA": np.eye(4)[[3, 3, 2, 0, 1, 0]].T * 0.85 + 0.0375,
    }
    decoys = own_decoys(database)
    again = own_decoys(database)
    assert len(decoys) + len(database) == 100 and list(decoys) == list(again)
    assert all(np.array_equal(decoys[k], again[k]) for k in decoys)
    for name, ppm in decoys.items():
        source = database[name.split(" ", 1)[1]]
        assert sorted(information_bits(ppm)) == pytest.approx(sorted(information_bits(source)))
    query = np.clip(database["minus10 TATAAT"] + rng.normal(0, 0.03, (4, 6)), 0.01, None)
    found = match_motifs([query / query.sum(axis=0)], database, decoys=decoys)
    assert found.iloc[0]["target"] == "minus10 TATAAT" and found.iloc[0]["significant"]
    noise = rng.dirichlet(np.ones(4), size=6).T
    assert not match_motifs([noise], database, decoys=decoys)["significant"].any()
