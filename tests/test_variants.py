import gzip

import numpy as np
import pandas as pd
import pysam
import pytest
import torch
from toy_models import Linear

from seqsal.attribute import attribute
from seqsal.cli import main
from seqsal.errors import InputError
from seqsal.io.bed import REJECTED_COLUMNS
from seqsal.io.variants import read_variants, write_variant_vcf
from seqsal.models import build_model, strand_averaged
from seqsal.variants import (
    TABLE_COLUMNS,
    VCF_INFO,
    allele_windows,
    check_variants,
    empirical_p,
    motif_disruption,
    motif_summary,
    place_variants,
    score_variants,
    variant_effects,
    vcf_rows,
)

WIDTH = 40
VCF_HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def genome(seed=0, length=300):
    rng = np.random.default_rng(seed)
    return {c: "".join(rng.choice(list("ACGT"), length)) for c in ("chr1", "chr2")}


def reader(sequences):
    return lambda chrom: np.frombuffer(sequences[chrom].encode(), np.uint8)


def regions(rows):
    return pd.DataFrame(rows, columns=["chrom", "start", "end", "name", "score", "strand"])


def variants(rows):
    frame = pd.DataFrame(rows, columns=["chrom", "pos", "ref", "alt"])
    return frame.assign(
        name=[f"v{i}" for i in range(len(frame))],
        line=range(1, len(frame) + 1),
        variant=[f"{c}:{p + 1} {r}>{a}" for c, p, r, a in rows],
    )


def cnn(seed=0):
    torch.manual_seed(seed)
    return build_model("cnn", input_length=WIDTH, n_outputs=2).eval()


def test_vcf_multiallelic_unsorted_and_symbolic_rows(tmp_path):
    path = tmp_path / "v.vcf"
    path.write_text(
        VCF_HEADER + "chr2\t10\trs1\tA\tG,T\t.\t.\t.\n"
        "chr1\t5\t.\tAC\tA\t.\t.\t.\n"
        "chr1\t7\t.\tA\t<DEL>\t.\t.\t.\n"
        "chr1\t8\t.\tA\t.\t.\t.\t.\n"
    )
    found, rejected = read_variants(path)
    assert found[["chrom", "pos", "ref", "alt", "name", "line"]].values.tolist() == [
        ["chr2", 9, "A", "G", "rs1", 3],
        ["chr2", 9, "A", "T", "rs1", 3],
        ["chr1", 4, "AC", "A", "chr1:5:AC>A", 4],
    ]
    assert rejected["line"].tolist() == [5, 6]
    assert (
        "symbolic" in rejected["reason"].iloc[0] and rejected["reason"].iloc[1] == "no ALT allele"
    )


def test_bgzip_vcf_reads_as_plain(tmp_path):
    plain = tmp_path / "v.vcf"
    plain.write_text(VCF_HEADER + "chr1\t5\t.\tA\tC\t.\t.\t.\n")
    pysam.tabix_compress(str(plain), str(tmp_path / "v.vcf.gz"))
    assert read_variants(tmp_path / "v.vcf.gz")[0].equals(read_variants(plain)[0])


def test_malformed_vcf_record_names_its_line(tmp_path):
    path = tmp_path / "v.vcf"
    path.write_text(VCF_HEADER + "chr1\t5\t.\tA\tC\t.\t.\t.\nchr1\tx9\t.\tA\tC\t.\t.\t.\n")
    with pytest.raises(InputError, match=r"v.vcf, line 4: expected a VCF record.*x9"):
        read_variants(path)


def test_tsv_with_or_without_header_positions_and_offsets(tmp_path):
    with_header = tmp_path / "a.tsv"
    with_header.write_text("chrom\tpos\tref\talt\tname\nchr1\t5\ta\tg\tmine\nchr1\t0\tA\tG\n")
    found, rejected = read_variants(with_header)
    assert found[["pos", "ref", "alt", "name"]].values.tolist() == [[4, "A", "G", "mine"]]
    assert rejected["line"].tolist() == [3] and "1-based" in rejected["reason"].iloc[0]
    offsets = tmp_path / "b.tsv"
    offsets.write_text("seq1\t0\tA\tG\n")
    assert read_variants(offsets, offsets=True)[0]["pos"].tolist() == [0]
    short = tmp_path / "c.tsv"
    short.write_text("chr1\t5\tA\n")
    with pytest.raises(InputError, match="c.tsv, line 1: expected tab-separated chrom, pos"):
        read_variants(short)


def test_check_against_reference_gives_each_reason():
    sequences = genome()
    ref = sequences["chr1"][10]
    wrong = "ACGT"[("ACGT".index(ref) + 1) % 4]
    rows = variants(
        [
            ("chr1", 10, ref, "T"),
            ("chr1", 10, wrong, "T"),
            ("1", 10, "A", "C"),
            ("chr1", 299, sequences["chr1"][299] + "A", "A"),
            ("chr1", 20, sequences["chr1"][20], "A" * 25),
        ]
    )
    kept, rejected = check_variants(rows, reader(sequences), {"chr1": 300}, width=WIDTH)
    assert kept["name"].tolist() == ["v0"]
    reasons = dict(zip(rejected["line"], rejected["reason"]))
    assert "does not match the reference" in reasons[2]
    assert "add the chr prefix" in reasons[3]
    assert "past the end of chr1" in reasons[4]
    assert "longer than half the model's width" in reasons[5]


def test_placement_prefers_the_nearest_region_centre_else_centres_a_window():
    bed = regions([("chr1", 0, 40, "a", 0, "+"), ("chr1", 20, 60, "b", 0, "-")])
    rows = variants([("chr1", 25, "A", "C"), ("chr1", 45, "A", "C"), ("chr1", 100, "A", "C")])
    placed = place_variants(rows, bed, width=WIDTH)
    assert placed["window"].tolist() == ["a", "b", "chr1:81-120"]
    assert placed["window_start"].tolist() == [0, 20, 80]
    assert placed["window_strand"].tolist() == ["+", "-", "+"]


def linear_delta(model, window: str, strand: str, target=0):
    """The linear model's output on a + strand window string, on its strand."""
    from seqsal.encode import encode_regions

    X = torch.as_tensor(encode_regions([window], [strand])).float()
    with torch.no_grad():
        return float(model(X)[0, target])


@pytest.mark.parametrize("strand", ["+", "-"])
def test_snv_and_indel_outputs_are_the_model_on_the_edited_window(strand):
    sequences = genome(1)
    model = Linear(WIDTH, n_outputs=2).eval()
    bed = regions([("chr1", 100, 140, "r", 0, strand)])
    s = sequences["chr1"]
    rows = variants(
        [("chr1", 110, s[110], "G" if s[110] != "G" else "C"), ("chr1", 120, s[120], s[120] + "TT")]
    )
    placed = place_variants(rows, bed, width=WIDTH)
    ref, alt, _, _ = score_variants(placed, reader(sequences), model, width=WIDTH, oriented=True)
    window = s[100:140]
    edited_snv = window[:10] + placed["alt"][0] + window[11:]
    edited_ins = (window[:20] + s[120] + "TT" + window[21:])[:WIDTH]
    assert ref[0, 0] == pytest.approx(linear_delta(model, window, strand), abs=1e-5)
    assert alt[0, 0] == pytest.approx(linear_delta(model, edited_snv, strand), abs=1e-5)
    assert alt[1, 0] == pytest.approx(linear_delta(model, edited_ins, strand), abs=1e-5)


def test_snv_delta_is_the_ism_value_on_both_strands():
    sequences = genome(2)
    model = cnn()
    bed = regions([("chr1", 40, 80, "p", 0, "+"), ("chr2", 40, 80, "m", 0, "-")])
    rng = np.random.default_rng(0)
    rows = []
    for chrom in ("chr1", "chr2"):
        for pos in rng.choice(np.arange(40, 80), 6, replace=False):
            ref = sequences[chrom][pos]
            rows.append(
                (chrom, int(pos), ref, "ACGT"[("ACGT".index(ref) + rng.integers(1, 4)) % 4])
            )
    placed = place_variants(variants(rows), bed, width=WIDTH)
    ref, alt, _, _ = score_variants(placed, reader(sequences), model, width=WIDTH, oriented=False)
    X, _ = allele_windows(placed, reader(sequences), width=WIDTH)
    hyp, _, _ = attribute(model, X, method="ism", rc_average=True, target=1)
    minus = placed["window_strand"].to_numpy() == "-"
    offset = (placed["pos"] - placed["window_start"]).to_numpy()
    position = np.where(minus, WIDTH - 1 - offset, offset)
    code = {b: i for i, b in enumerate("ACGT")}
    a = np.array([code[b] for b in placed["alt"]])
    r = np.array([code[b] for b in placed["ref"]])
    a, r = np.where(minus, 3 - a, a), np.where(minus, 3 - r, r)
    rows_ = np.arange(len(placed))
    ism = hyp[rows_, a, position] - hyp[rows_, r, position]
    np.testing.assert_allclose(alt[:, 1] - ref[:, 1], ism, atol=1e-5)


def test_same_allele_is_zero_and_swapping_alleles_negates_delta():
    sequences = genome(3)
    model = cnn(1)
    bed = regions([("chr1", 100, 140, "r", 0, "-")])
    s = sequences["chr1"]
    alt = "A" if s[115] != "A" else "C"
    forward = variants([("chr1", 115, s[115], alt), ("chr1", 118, s[118], s[118])])
    swapped_genome = {**sequences, "chr1": s[:115] + alt + s[116:]}
    backward = variants([("chr1", 115, alt, s[115])])

    def delta(rows, seqs):
        table, _, _ = variant_effects(
            rows, pd.DataFrame(columns=REJECTED_COLUMNS), bed, reader(seqs),
            {c: len(v) for c, v in seqs.items()}, model,
            {"input_length": WIDTH, "targets": ["a", "b"], "tasks": ["regression", "binary"]},
            targets=[0, 1], oriented=False, motifs={}, n_null=20, max_maps=2, map_flank=3,
        )  # fmt: skip
        return table

    table = delta(forward, sequences)
    assert (table.loc[table["name"] == "v1", "delta"] == 0).all()
    back = delta(backward, swapped_genome)
    np.testing.assert_allclose(
        back["delta"].to_numpy(), -table.loc[table["name"] == "v0", "delta"].to_numpy(), atol=1e-5
    )
    assert table["pos"].tolist() == [116, 116, 119, 119]  # + strand, 1-based, as given
    binary = table[table["target"] == "b"]
    assert binary["delta_probability"].notna().all()
    assert table.loc[table["target"] == "a", "delta_probability"].isna().all()


def test_empirical_p_counts_null_values_at_least_as_large():
    null = np.array([[0.1], [-0.5], [2.0], [0.3]])
    p = empirical_p(np.array([[0.0], [0.5], [-3.0]]), null)
    np.testing.assert_allclose(p[:, 0], [5 / 5, 3 / 5, 1 / 5])


def test_breaking_a_planted_site_is_found_with_both_p_values():
    ppm = np.full((4, 6), 0.02)
    ppm[[0, 2, 0, 3, 0, 1], range(6)] = 0.94  # AGATAC
    flank = 5
    ref = np.frombuffer(b"TTTTTAGATACTTTTT", np.uint8)  # variant at the site's G (offset 5 + 1)
    left = ref[: flank + 1]
    alt = np.concatenate([left, np.frombuffer(b"C", np.uint8), ref[flank + 2 :]])
    hits = motif_disruption(
        [ref[1:]], [alt[1:]], flank, [(1, 1)], {"GATA-like": ppm}, threshold=1e-3
    )
    hit = hits.iloc[0]
    assert hit["motif"] == "GATA-like" and hit["strand"] == "+" and hit["start"] == -1
    assert hit["p_ref"] < 1e-3 < hit["p_alt"]
    summary = motif_summary(hits, 1, 1e-3, prefer=(["GATA-like"],))
    assert summary.loc[0, "motif_effect"] == "breaks"
    # a motif of no tier (a database's, when the run found none) is listed, never headlined
    alone = motif_summary(hits, 1, 1e-3)
    assert alone.loc[0, "motif"] == "" and "GATA-like (+) breaks" in alone.loc[0, "motif_hits"]


def test_scored_vcf_is_sorted_indexed_and_escaped(tmp_path):
    table = pd.DataFrame(
        {
            "name": ["b v;1", "a"],
            "chrom": ["chr2", "chr1"],
            "pos": [11, 5],
            "ref": ["A", "C"],
            "alt": ["G", "T"],
            "line": [1, 2],
            "target": "t",
            "ref_output": [1.0, 2.0],
            "alt_output": [0.5, 2.5],
            "delta": [-0.5, 0.5],
            "p_value": [0.01, 0.5],
            "q_value": [0.02, 0.5],
            "delta_probability": np.nan,
            "motif": ["motif_1 GATA1;x=y", ""],
            "motif_effect": ["breaks", ""],
            "motif_p_ref": [1e-5, np.nan],
            "motif_p_alt": [0.2, np.nan],
            "window": ["r1", "chr1:1-40"],
        }
    )
    path = tmp_path / "v.vcf.gz"
    write_variant_vcf(
        vcf_rows(table), path, contigs={"chr1": 100, "chr2": 100}, targets=["t"], info=VCF_INFO,
        meta={"null_size": 2000},
    )  # fmt: skip
    with pysam.VariantFile(str(path)) as vcf:
        # 4.3, whose percent-encoding the ID and INFO strings use; the p-value's floor
        assert vcf.header.version == "VCFv4.3" and "##seqsal_null_size=2000" in str(vcf.header)
        records = list(vcf)
        assert records[1].info["SEQSAL_Q"] == pytest.approx((0.02,))
        assert [r.chrom for r in records] == ["chr1", "chr2"]
        second = records[1]
        assert second.id == "b%20v%3B1" and second.info["SEQSAL_DELTA"] == (-0.5,)
        assert second.info["SEQSAL_MOTIF"] == "motif_1%20GATA1%3Bx%3Dy"
        assert "SEQSAL_MOTIF" not in records[0].info
        assert len(list(vcf.fetch("chr2", 0, 20))) == 1
    assert gzip.open(path, "rt").read().count("\n#CHROM") == 1


def test_cli_bad_vcf_ends_in_one_line(tmp_path, capsys):
    path = tmp_path / "v.vcf"
    path.write_text(VCF_HEADER + "chr1\tnot_a_number\t.\tA\tC\t.\t.\t.\n")
    status = main(
        ["variants", "--model", str(tmp_path / "none.pt"), "--variants", str(path),
         "--regions", "r.bed", "--fasta", "g.fa", "--out-dir", str(tmp_path / "out")]
    )  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and len(err) == 1 and "v.vcf, line 3: expected a VCF record" in err[0]


def test_no_variants_give_empty_outputs_and_a_report_section(tmp_path):
    from seqsal.report import variant_context

    sequences = genome(4)
    bed = regions([("chr1", 100, 140, "r", 0, "+")])
    meta = {"input_length": WIDTH, "targets": ["a", "b"], "tasks": ["regression"] * 2}
    table, rejected, maps = variant_effects(
        variants([]).astype({"pos": np.int64}), pd.DataFrame(columns=REJECTED_COLUMNS), bed,
        reader(sequences), {"chr1": 300}, cnn(), meta, targets=[0], oriented=False,
        motifs={}, n_null=20,
    )  # fmt: skip
    assert list(table.columns) == TABLE_COLUMNS and not len(table) and not len(rejected)
    write_variant_vcf(vcf_rows(table), tmp_path / "v.vcf.gz", contigs={"chr1": 300},
                      targets=["a"], info=VCF_INFO)  # fmt: skip
    assert not list(pysam.VariantFile(str(tmp_path / "v.vcf.gz")))
    context = variant_context(
        table, maps, n_rejected=0, n_null=20, motif_p=1e-4, method="grad_x_input", strands=True,
        own_motifs=0,
    )  # fmt: skip
    assert context["verdict"].startswith("0 of 0") and not context["rows"]


@pytest.mark.parametrize("oriented", [True, False])
def test_an_ensemble_scores_each_member_on_its_fast_path(monkeypatch, caplog, oriented):
    """Each member of an ensemble through fastISM (forced here; timing decides in a
    run), averaged: the ensemble's own output on every edited window, within 1e-5."""
    import logging

    import seqsal.attribute.ism as ism
    from seqsal.models import ensemble_of

    torch.manual_seed(0)
    members = [build_model("cnn", input_length=WIDTH, n_outputs=2).eval() for _ in range(3)]
    model = ensemble_of(members, arch="cnn", hparams={"input_length": WIDTH, "n_outputs": 2})
    sequences = genome(4)
    bed = regions([("chr1", 40, 80, "p", 0, "+"), ("chr2", 100, 140, "m", 0, "-")])
    rng = np.random.default_rng(1)
    rows = [
        (
            chrom,
            int(pos),
            sequences[chrom][pos],
            "ACGT"[("ACGT".index(sequences[chrom][pos]) + 1) % 4],
        )
        for chrom, start in (("chr1", 40), ("chr2", 100))
        for pos in rng.choice(np.arange(start, start + WIDTH), 8, replace=False)
    ]
    placed = place_variants(variants(rows), bed, width=WIDTH)
    monkeypatch.setattr(ism, "fast_path_pays", lambda *args, **kwargs: True)
    with caplog.at_level(logging.INFO, logger="seqsal"):
        ref, alt, _, _ = score_variants(
            placed, reader(sequences), model, width=WIDTH, oriented=oriented,
            log=logging.getLogger("seqsal"),
        )  # fmt: skip
    assert "each of the 3 members: fastISM through a body" in caplog.text
    X_ref, X_alt = allele_windows(placed, reader(sequences), width=WIDTH)
    full = model if oriented else strand_averaged(model)
    with torch.no_grad():
        expected_ref = full(torch.as_tensor(X_ref).float()).numpy()
        expected_alt = full(torch.as_tensor(X_alt).float()).numpy()
    np.testing.assert_allclose(ref, expected_ref, atol=1e-5)
    np.testing.assert_allclose(alt, expected_alt, atol=1e-5)
