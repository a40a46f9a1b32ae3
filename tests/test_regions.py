import pandas as pd
import pytest

from seqsal.io import InputError, read_bed
from seqsal.regions import prepare_library, prepare_regions, resize_regions

SIZES = {"chrA": 40, "chrB": 30}


def bed(rows):
    frame = pd.DataFrame(rows, columns=["chrom", "start", "end", "name", "score", "strand"])
    frame["line"] = range(1, len(frame) + 1)
    return frame


def test_resize_keeps_center_and_width():
    out = resize_regions(
        bed([("chrA", 10, 20, "a", 0, "+"), ("chrA", 10, 21, "b", 0, "-")]), width=6
    )
    assert out["start"].tolist() == [12, 12] and out["end"].tolist() == [18, 18]


def test_regions_past_the_end_are_rejected_with_reason():
    regions, rejected = prepare_regions(
        bed([("chrA", 10, 20, "in", 0, "+"), ("chrB", 26, 30, "edge", 0, "-")]), SIZES, width=10
    )
    assert regions["name"].tolist() == ["in"]
    assert rejected["name"].tolist() == ["edge"]
    assert "runs past the contig end" in rejected["reason"].iloc[0]
    assert rejected["line"].tolist() == [2]


def test_every_row_is_used_or_reported():
    labels = pd.DataFrame({"y": [1.0, float("nan"), 2.0]}, index=["a", "b", "extra"])
    rows = [
        ("chrA", 10, 20, "a", 0, "+"),
        ("chrA", 10, 20, "b", 0, "+"),
        ("chrA", 10, 20, "c", 0, "+"),
        ("chrB", 0, 4, "d", 0, "+"),
    ]
    regions, rejected = prepare_regions(
        bed(rows), SIZES, width=10, labels=labels, source="in.bed", label_source="labels.tsv"
    )
    assert regions["name"].tolist() == ["a"]
    reasons = dict(zip(rejected["name"], rejected["reason"]))
    assert set(reasons) == {"b", "c", "d", "extra"}
    assert reasons["b"] == "label y missing in labels.tsv"
    assert reasons["c"] == "no label in labels.tsv"
    assert reasons["extra"] == "name not in in.bed"


def test_missing_chromosome_stops_with_chr_prefix_hint():
    with pytest.raises(
        InputError, match=r"line 1: .*found 'A'; did you mean 'chrA' \(add the 'chr'"
    ):
        prepare_regions(bed([("A", 1, 5, "x", 0, "+")]), SIZES, width=4)


def test_duplicate_names_are_made_unique():
    regions, _ = prepare_regions(bed([("chrA", 10, 20, "a", 0, "+")] * 3), SIZES, width=10)
    assert regions["name"].tolist() == ["a", "a_2", "a_3"]


def test_names_survive_from_bed_file(write):
    path = write("r.bed", "chrA\t0\t40\tmy_region\t0\t-\n")
    regions, rejected = prepare_regions(read_bed(path), SIZES, width=20)
    assert regions.iloc[0].tolist() == ["chrA", 10, 30, "my_region", 0, "-", 0, 0]
    assert rejected.empty


def test_narrowpeak_summit_is_the_center(write):
    path = write(
        "peaks.narrowPeak",
        "chrA\t0\t40\tp1\t0\t.\t5.5\t3\t2\t30\nchrA\t0\t40\tp2\t0\t.\t5.5\t3\t2\t-1\n",
    )
    bed = read_bed(path, label_columns=[7])
    assert bed["summit"].tolist() == [30, -1] and bed["signalValue"].tolist() == [5.5, 5.5]
    regions, _ = prepare_regions(bed, SIZES, width=10)
    assert regions["start"].tolist() == [25, 15]


def test_pad_policy_rejects_longer_regions_and_flank_widens():
    rows = [("chrA", 10, 20, "short", 0, "+"), ("chrA", 0, 30, "long", 0, "+")]
    regions, rejected = prepare_regions(bed(rows), SIZES, width=12, policy="pad", flank=2)
    assert regions["name"].tolist() == ["short"]
    assert (regions["end"] - regions["start"]).tolist() == [16]
    assert rejected["reason"].tolist() == ["region of 30 bp is longer than width 12"]


def test_library_policies():
    sequences = {"exact": "ACGTACGTAC", "short": "ACG", "long": "A" * 14, "empty": ""}
    library, regions, rejected = prepare_library(sequences, width=10, policy="pad")
    assert regions["name"].tolist() == ["exact", "short"]
    assert library["short"] == "NNNACGNNNN" and (regions["end"] - regions["start"]).eq(10).all()
    reasons = dict(zip(rejected["name"], rejected["reason"]))
    assert reasons == {
        "long": "sequence of 14 bp is longer than width 10",
        "empty": "empty sequence",
    }
    library, regions, rejected = prepare_library(sequences, width=10, policy="center")
    assert regions["name"].tolist() == ["exact", "long"]
    assert regions.set_index("name").loc["long", "start"] == 2 and library["long"] == "A" * 14
    assert "shorter than the window" in dict(zip(rejected["name"], rejected["reason"]))["short"]


def test_library_labels_are_matched_by_name():
    labels = pd.DataFrame({"y": [1.0, 2.0]}, index=["a", "other"])
    _, regions, rejected = prepare_library(
        {"a": "ACGT", "b": "ACGT"}, width=4, labels=labels, source="lib.fa", label_source="y.tsv"
    )
    assert regions["name"].tolist() == ["a"]
    assert rejected[["source", "line", "name"]].values.tolist() == [
        ["lib.fa", 2, "b"],
        ["y.tsv", 3, "other"],
    ]


def test_unknown_width_policy():
    with pytest.raises(InputError, match="input.width_policy: expected one of"):
        prepare_library({"a": "ACGT"}, width=4, policy="stretch")


def test_windows_past_a_contig_end_can_be_padded_with_n():
    rows = [("chrB", 0, 6, "start", 0, "+"), ("chrB", 24, 30, "end", 0, "-")]
    regions, rejected = prepare_regions(bed(rows), SIZES, width=10, out_of_bounds="pad")
    assert rejected.empty
    assert regions[["start", "end", "pad_left", "pad_right"]].values.tolist() == [
        [0, 8, 2, 0],
        [22, 30, 0, 2],
    ]
    with pytest.raises(InputError, match="input.out_of_bounds: expected 'reject' or 'pad'"):
        prepare_regions(bed(rows), SIZES, width=10, out_of_bounds="wrap")


def test_genome_regions_use_or_reject_every_row_and_name_duplicates(tmp_path):
    from seqsal.io.bed import read_bed
    from seqsal.regions import build_genome_regions

    path = tmp_path / "peaks.bed"
    path.write_text(
        "c1\t10\t30\tpeak\t0\t+\t5.5\n"
        "c1\t40\t60\tpeak\t0\t-\t2\n"
        "c1\t90\t99\tedge\t0\t+\t1\n"  # its 20 bp window runs past the contig end
        "c1\t50\t70\tblank\t0\t+\tnan\n"  # no label
    )
    bed = read_bed(path, label_columns=(7,))
    regions, rejected, labels = build_genome_regions(bed, {"c1": 100}, width=20, source=str(path))
    assert regions["name"].tolist() == ["peak", "peak_2"]
    assert len(regions) + len(rejected) == len(bed)
    assert rejected["name"].tolist() == ["edge", "blank"]
    assert labels.loc[["peak", "peak_2"], "signalValue"].tolist() == [5.5, 2.0]


def test_library_regions_add_shuffled_negatives_only_without_labels():
    from seqsal.regions import build_library_regions

    sequences = {"s1": "ACGTACGTAC", "s2": "GGGCCCAAAT"}
    library, regions, rejected, labels = build_library_regions(
        sequences, negatives="dinucleotide_shuffle", width=10
    )
    assert regions["name"].tolist() == ["s1", "s1_shuffled", "s2", "s2_shuffled"]  # sorted
    assert labels["bound"].tolist() == [1.0, 1.0, 0.0, 0.0] and rejected.empty
    for name in ("s1", "s2"):  # a shuffle keeps the composition
        assert sorted(library[f"{name}_shuffled"]) == sorted(library[name])
    given = pd.DataFrame({"y": [1.0, 2.0]}, index=["s1", "s2"])
    with pytest.raises(InputError, match="input.negatives"):
        build_library_regions(sequences, labels=given, negatives="dinucleotide_shuffle", width=10)


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity"])
def test_a_label_that_is_not_finite_is_rejected_with_its_reason(write, value):
    from seqsal.io.tables import read_label_table

    labels = read_label_table(
        write("labels.tsv", f"name\ty\tgroup\na\t1.5\tg1\nb\t{value}\tg2\n"), helpers=["group"]
    )
    bed = read_bed(write("r.bed", "c1\t0\t10\ta\nc1\t20\t30\tb\n"))
    regions, rejected = prepare_regions(bed, {"c1": 100}, width=10, labels=labels)
    assert regions["name"].tolist() == ["a"]
    (reason,) = rejected["reason"]
    assert reason.startswith("label not a finite number in labels: y=") and "inf" in reason
    library, regions, rejected = prepare_library(
        {"a": "ACGT" * 3, "b": "ACGT" * 3}, width=12, labels=labels
    )
    assert regions["name"].tolist() == ["a"] and rejected["name"].tolist() == ["b"]


def test_names_that_bed_readers_refuse_are_rejected_with_their_reason(write):
    sequences = {"β-globin": "ACGT" * 3, "ok_1": "ACGT" * 3, "tab\there": "ACGT" * 3}
    library, regions, rejected = prepare_library(sequences, width=12)
    assert regions["name"].tolist() == ["ok_1"] and list(library) == ["ok_1"]
    assert rejected["name"].tolist() == ["β-globin", "tab\there"]
    assert (rejected["reason"].str.contains("not printable ASCII")).all()
    bed = read_bed(write("r.bed", "c1\t0\t10\tséq\nc1\t20\t30\tplain\n"))
    regions, rejected = prepare_regions(bed, {"c1": 100}, width=10)
    assert regions["name"].tolist() == ["plain"]
    assert rejected["reason"].tolist() == [
        "name 'séq' is not printable ASCII, which BED readers refuse; rename it"
    ]


def test_a_sequence_rejected_for_itself_is_not_reported_again_by_its_label():
    labels = pd.DataFrame({"y": [1.0, 2.0, 3.0]}, index=["a", "empty", "elsewhere"])
    library, regions, rejected = prepare_library(
        {"a": "ACGT" * 3, "empty": ""}, width=12, labels=labels, source="lib", label_source="y"
    )
    assert rejected[["name", "reason"]].values.tolist() == [
        ["empty", "empty sequence"],
        ["elsewhere", "name not in lib"],
    ]
