import shutil
import subprocess

import numpy as np
import pandas as pd
import pyBigWig
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqsal.io.bed import sort_bed
from seqsal.io.bigwig import write_bigwig
from seqsal.io.igv import igv_session
from seqsal.tracks import (
    Track,
    _owners_by_base,
    attribution_track,
    bed_in,
    genome_positions,
    page_loci,
    region_owners,
    seqlet_track,
    track_in,
)

REGIONS = pd.DataFrame(
    {
        "chrom": ["c1", "c1", "c2"],
        "start": [10, 16, 0],
        "end": [20, 26, 10],
        "name": ["a", "b", "m"],
        "score": 0,
        "strand": ["+", "+", "-"],
    }
)


def test_genome_positions_minus_strand_runs_backwards():
    positions = genome_positions(REGIONS, 10)
    assert positions[0, :3].tolist() == [10, 11, 12]
    assert positions[2, :3].tolist() == [9, 8, 7] and positions[2, -1] == 0


def test_overlap_takes_the_nearest_center_and_uncovered_bases_are_absent():
    attr = np.stack([np.full(10, 1.0), np.full(10, 2.0), np.arange(10.0)])
    track = attribution_track(REGIONS, attr, contigs=["c1", "c2"]).to_frame()
    c1 = track[track["chrom"] == "c1"].set_index("start")["value"]
    assert c1.index.tolist() == list(range(10, 26))
    assert c1[17] == 1.0 and c1[18] == 2.0  # centers 15 and 21
    c2 = track[track["chrom"] == "c2"].set_index("start")["value"]
    assert c2[9] == 0.0 and c2[0] == 9.0  # the - strand region read backwards


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 60), st.integers(1, 12)),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
)
def test_split_between_centers_equals_nearest_center_base_by_base(spans, equal_widths):
    """The linear split, with its exactness check, gives what the per-base rule gives,
    for equal widths (the split alone) and mixed ones (the fallback), ties included."""
    chrom, start, width = (np.array(x) for x in zip(*spans))
    if equal_widths:
        width = np.full_like(width, width[0])
    regions = pd.DataFrame({"chrom": np.array(["c1", "c2"])[chrom], "start": start})
    regions["end"] = start + width
    rank = chrom.astype(np.int64)
    runs = region_owners(regions, contigs=["c1", "c2"])
    slow = _owners_by_base(rank, start.astype(np.int64), start + width.astype(np.int64), [0, 1])
    per_base = [
        {
            (r, p): k
            for k, r, a, b in zip(t["region"], t["rank"], t["start"], t["end"])
            for p in range(a, b)
        }
        for t in (runs, slow)
    ]
    assert per_base[0] == per_base[1]
    assert list(zip(runs["rank"], runs["start"])) == sorted(zip(runs["rank"], runs["start"]))


def test_track_runs_follow_strand_and_n_padding():
    regions = pd.DataFrame(
        {
            "chrom": ["c1", "c1"],
            "start": [0, 20],
            "end": [4, 26],
            "strand": ["-", "+"],
            "pad_left": [2, 0],
            "pad_right": [0, 0],
        }
    )
    attr = np.arange(12.0).reshape(2, 6)
    frame = attribution_track(regions, attr, contigs=["c1"]).to_frame()
    # the - region's window is genome -2..4 read backwards: offset 0 is genome base 3
    assert frame["start"].tolist() == [0, 1, 2, 3, *range(20, 26)]
    assert frame["value"].tolist() == [3.0, 2.0, 1.0, 0.0, *attr[1]]


def test_bigwig_reads_back_per_base(tmp_path):
    attr = np.random.default_rng(0).normal(size=(3, 10)).astype(np.float32)
    sizes = {"c1": 100, "c2": 50}
    write_bigwig(attribution_track(REGIONS, attr, contigs=list(sizes)), sizes, tmp_path / "a.bw")
    bw = pyBigWig.open(str(tmp_path / "a.bw"))
    assert bw.chroms() == sizes
    np.testing.assert_allclose(bw.values("c2", 0, 10), attr[2, ::-1], rtol=1e-6)
    np.testing.assert_allclose(bw.values("c1", 10, 16), attr[0, :6], rtol=1e-6)
    assert np.isnan(bw.values("c1", 30, 31)[0])


def test_sort_bed_matches_c_locale_sort():
    bed = pd.DataFrame(
        {
            "chrom": ["chr2", "chr10", "chr1", "chr1", "Chr1"],
            "start": [5, 1, 100, 20, 3],
            "end": [6, 2, 101, 21, 4],
            "name": list("abcde"),
        }
    )
    out = sort_bed(bed)
    assert list(zip(out["chrom"], out["start"])) == [
        ("Chr1", 3),
        ("chr1", 20),
        ("chr1", 100),
        ("chr10", 1),
        ("chr2", 5),
    ]
    if shutil.which("sort"):
        text = bed.to_csv(sep="\t", header=False, index=False)
        done = subprocess.run(
            ["sort", "-k1,1", "-k2,2n"],
            input=text,
            capture_output=True,
            text=True,
            env={"LC_ALL": "C"},
            check=True,
        )
        assert done.stdout == out.to_csv(sep="\t", header=False, index=False)


def test_seqlet_track_is_bed9_colored_by_motif():
    seqlets = pd.DataFrame(
        {
            "chrom": ["c1", "c1"],
            "start": [30, 12],
            "end": [40, 22],
            "name": ["x:0", "y:0"],
            "score": [500, 20],
            "strand": ".",
            "region": ["x", "y"],
            "attr_sum": [1.0, 2.0],
            "p_value": [1e-5, 1e-3],
            "q_value": [1e-4, 0.01],
        }
    )
    assignments = pd.DataFrame(
        {"seqlet": ["x:0", "y:0"], "motif_id": ["motif_1", "none"], "strand": ["-", "."]}
    )
    bed = seqlet_track(seqlets, assignments, {"motif_1": "GATA1"})
    assert bed.columns.tolist()[6:] == ["thickStart", "thickEnd", "itemRgb"]
    assert bed["name"].tolist() == ["none|y:0", "motif_1:GATA1|x:0"]
    assert bed["strand"].tolist() == [".", "-"]
    assert bed["itemRgb"].tolist() == ["176,176,176", "31,119,180"]


def test_igv_session_uses_relative_paths(tmp_path):
    xml = igv_session(
        genome=tmp_path / "ref" / "g.fa",
        locus="c1:1-100",
        folder=tmp_path / "tracks",
        tracks=[{"path": tmp_path / "tracks" / "a.bw", "name": "attribution"}],
    )
    assert 'genome="../ref/g.fa"' in xml and 'path="a.bw"' in xml and 'locus="c1:1-100"' in xml


def test_hypothetical_tracks_map_bases_to_the_plus_strand():
    from seqsal.tracks import hypothetical_tracks

    regions = pd.DataFrame(
        {
            "chrom": ["c1", "c1"],
            "start": [0, 10],
            "end": [3, 13],
            "name": ["p", "m"],
            "score": 0,
            "strand": ["+", "-"],
        }
    )
    hyp = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    tracks = hypothetical_tracks(regions, hyp, contigs=["c1"])
    a = tracks["A"].to_frame().set_index("start")["value"]
    assert a[0] == hyp[0, 0, 0] and a[2] == hyp[0, 0, 2]
    # the - strand region: + strand A is the model's T, and genome base 10 is its last offset
    assert a[10] == hyp[1, 3, 2] and a[12] == hyp[1, 3, 0]
    assert tracks["G"].to_frame().set_index("start")["value"][11] == hyp[1, 1, 1]


def test_tabix_copy_of_a_bed_answers_region_queries(tmp_path):
    import pysam

    from seqsal.io.bed import write_tabix

    path = tmp_path / "s.bed"
    lines = ["chr1\t5\t9\ta", "chr1\t20\t30\tb", "chr2\t0\t4\tc"]
    path.write_text("\n".join(lines) + "\n")
    write_tabix(path)
    tabix = pysam.TabixFile(str(tmp_path / "s.bed.gz"))
    assert list(tabix.fetch("chr1", 8, 21)) == lines[:2]
    assert list(tabix.fetch("chr2")) == lines[2:]
    assert path.read_text() == "\n".join(lines) + "\n"  # the BED itself is left as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.bed", "s.bed.gz", "s.bed.gz.tbi"]


def test_motif_hits_are_found_on_both_strands_and_mapped_to_the_genome():
    from seqsal.encode import one_hot_encode
    from seqsal.tracks import motif_hit_track, scan_motifs

    ppm = one_hot_encode(["GATAAGGC"])[0].astype(float) * 0.97 + 0.0075
    site = "GATAAGGC"
    background = "T" * 30
    # region p (+): the site at offset 5; region m (-): the site's reverse complement in the
    # genome, i.e. the site on the region's own strand at offset 10
    sequences = [background[:5] + site + background[13:], background[:10] + site + background[18:]]
    hits = scan_motifs({"motif_1": ppm}, one_hot_encode(sequences), threshold=1e-4)
    assert sorted(hits["region_index"]) == [0, 1] and set(hits["strand"]) == {"+"}
    regions = pd.DataFrame(
        {
            "chrom": ["c1", "c2"],
            "start": [100, 200],
            "end": [130, 230],
            "name": ["p", "m"],
            "score": 0,
            "strand": ["+", "-"],
        }
    )
    bed = motif_hit_track(hits, regions, {"motif_1": "GATA1"})
    assert bed[["chrom", "start", "end", "strand"]].values.tolist() == [
        ["c1", 105, 113, "+"],
        ["c2", 212, 220, "-"],  # offset 10 of a - region ending at 230: 230 - 10 - 8
    ]
    assert (bed["name"] == "motif_1:GATA1").all() and (bed["score"] > 400).all()
    assert len(scan_motifs({}, one_hot_encode(sequences))) == 0


@pytest.mark.parametrize("width", [5, 6, 7])
def test_motifs_fimo_cannot_report_are_named_exactly(width):
    """A motif's best FIMO p-value is 4^-width (its consensus): a 6-mer such as the -10
    box has no hit at 1e-4. The line names exactly the motifs FIMO then finds nothing of,
    and the threshold it suggests finds them."""
    from seqsal.encode import one_hot_encode
    from seqsal.motifs import too_short_for
    from seqsal.tracks import scan_motifs

    site = "TATAATGC"[:width]
    ppm = {"motif_1": one_hot_encode([site])[0].astype(float) * 0.97 + 0.0075}
    X = one_hot_encode(["GG" + site + "GG"])
    line = too_short_for(1e-4, {"motif_1": width}, "tracks.motif_hit_p")
    assert (len(scan_motifs(ppm, X, threshold=1e-4)) == 0) == bool(line)
    if line:
        assert f"so motif_1 ({width} bases) can have no hit" in line
        enough = 1e-3  # 4^-5 and 4^-6 rounded up to a power of ten
        assert line.endswith("set tracks.motif_hit_p to 0.001 to see them")
        assert too_short_for(enough, {"motif_1": width}, "tracks.motif_hit_p") == ""
        assert len(scan_motifs(ppm, X, threshold=enough)) == 1


def test_igv_page_shows_the_regions_of_the_best_seqlets_and_only_their_bases():
    regions = pd.DataFrame(
        {"chrom": "c1", "start": [0, 100, 200], "end": [50, 150, 250], "name": ["a", "b", "c"]}
    )
    seqlets = pd.DataFrame(
        {"region": ["a", "c", "c"], "q_value": [0.01, 0.001, 0.01], "attr_sum": [1.0, -2.0, 3.0]}
    )
    assert page_loci(seqlets, regions, 2)["name"].tolist() == ["c", "a"]
    assert page_loci(seqlets, regions, 3)["name"].tolist() == ["c", "a", "b"]  # filled up
    loci = pd.DataFrame({"chrom": ["c1", "c1"], "start": [10, 15], "end": [20, 30]})
    track = Track(
        np.array(["c1", "c1"], dtype=object), np.array([0, 25]), [np.arange(20.0), np.ones(50)]
    )
    frame = track_in(track, loci)
    assert frame["start"].tolist() == list(range(10, 20)) + list(range(25, 30))  # once each
    assert frame["value"].tolist() == list(range(10, 20)) + [1.0] * 5
    bed = pd.DataFrame({"chrom": ["c1", "c1", "c2"], "start": [0, 29, 12], "end": [10, 31, 14]})
    assert bed_in(bed, loci).index.tolist() == [1]  # half-open: [0, 10) misses [10, 20)


def test_build_tracks_maps_every_region_and_scans_block_by_block():
    from seqsal.encode import one_hot_encode
    from seqsal.tracks import build_tracks

    sequences = ["T" * 5 + "GATAAGGC" + "T" * 17, "T" * 10 + "GATAAGGC" + "T" * 12]
    X = one_hot_encode(sequences)
    regions = pd.DataFrame(
        {
            "chrom": ["c1", "c2"],
            "start": [100, 200],
            "end": [130, 230],
            "name": ["p", "m"],
            "score": 0,
            "strand": ["+", "-"],
        }
    )
    attr = np.arange(60, dtype=np.float32).reshape(2, 30)
    hyp = np.repeat(attr[:, None], 4, axis=1) * X
    seqlets = pd.DataFrame(
        {
            "chrom": ["c1"],
            "start": [105],
            "end": [113],
            "name": ["p:0"],
            "score": [900],
            "strand": ".",
            "region": ["p"],
            "attr_sum": [4.0],
            "p_value": [1e-6],
            "q_value": [1e-5],
        }
    )
    assignments = pd.DataFrame({"seqlet": ["p:0"], "motif_id": ["motif_1"], "strand": ["+"]})
    ppm = one_hot_encode(["GATAAGGC"])[0].astype(float) * 0.97 + 0.0075
    common = (regions, {"attribution": attr}, {"c1": 300, "c2": 300}, seqlets, assignments)
    common += ({"motif_1": "GATA1"}, {"motif_1": ppm})
    whole = build_tracks(*common, [X], hyp=hyp, igv_loci=1)
    split = build_tracks(*common, [X[:1], X[1:]], igv_loci=1)  # blocks change nothing
    pd.testing.assert_frame_equal(whole["motif_hits"], split["motif_hits"])
    assert len(whole["motif_hits"]) == 2
    assert list(whole["bigwigs"]) == ["attribution"] + [f"hypothetical_{b}" for b in "ACGT"]
    assert list(split["bigwigs"]) == ["attribution"]
    frame = whole["bigwigs"]["attribution"].to_frame()
    plus, minus = frame[frame["chrom"] == "c1"], frame[frame["chrom"] == "c2"]
    assert plus["value"].tolist() == attr[0].tolist()
    assert minus["value"].tolist() == attr[1][::-1].tolist()  # mapped back to + strand
    assert whole["seqlets"]["name"].tolist() == ["motif_1:GATA1|p:0"]
    assert whole["locus"] == "c1:5-213" and whole["loci"]["name"].tolist() == ["p"]
    names = [t["name"] for t in whole["page_tracks"]]
    assert names == ["attribution", "seqlets", "motif hits"]
    assert len(whole["page_tracks"][0]["text"].splitlines()) == 30  # the locus's bases


def test_symmetric_range_is_one_scale_for_both_signs():
    values = [np.linspace(-1, 3, 1001), np.array([np.nan, -2.0])]
    track = Track(np.array(["c1", "c2"]), np.array([0, 5000]), values)
    low, high = track.symmetric_range(quantile=1.0)
    assert low == -high and high == pytest.approx(3.0)
    assert track.symmetric_range(quantile=0.5)[1] < 3.0  # outliers clip, not set, the scale
    zero = Track(np.array(["c1"]), np.array([0]), [np.zeros(10)])
    assert zero.symmetric_range() == (-1.0, 1.0)  # nothing to scale: a unit range
