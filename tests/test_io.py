import gzip
import re

import numpy as np
import pandas as pd
import pytest

from seqsal.io import (
    InputError,
    fetch_sequences,
    open_fasta,
    read_bed,
    read_labels,
    read_library_table,
    read_meme,
    read_npz,
    read_sequences,
    write_meme,
    write_npz,
)


def test_read_bed_skips_headers_and_accepts_crlf_and_trailing_tabs(write):
    path = write(
        "a.bed",
        "track name=x\nbrowser position chr1\n# comment\n\n"
        "chrA\t0\t10\tr1\t0\t+\t\r\nchrA\t5\t20\r\n",
    )
    bed = read_bed(path)
    assert bed["name"].tolist() == ["r1", "chrA:5-20"]
    assert bed["strand"].tolist() == ["+", "."]
    assert bed["line"].tolist() == [5, 6]


@pytest.mark.parametrize(
    "line, message",
    [
        ("chrA\t10", "line 1: expected at least 3 tab-separated columns"),
        ("chrA\tx\t10", "line 1: expected an integer start, found 'x'"),
        ("chrA\t-5\t10", "line 1: expected start >= 0, found -5"),
        ("chrA\t10\t10", "line 1: expected end > start, found start=10 end=10"),
        ("chrA\t1\t10\tr\t0\t*", "line 1: expected strand '+', '-' or '.', found '*'"),
    ],
)
def test_read_bed_malformed_lines_name_file_line_expected_found(write, line, message):
    path = write("bad.bed", line + "\n")
    with pytest.raises(InputError, match=re.escape(message)) as error:
        read_bed(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_read_bed_empty(write):
    with pytest.raises(InputError, match="expected at least one region, found none"):
        read_bed(write("empty.bed", "# only a comment\n"))


def test_fetch_sequences_is_zero_based_half_open_and_upper_case(fasta):
    import pandas as pd

    regions = pd.DataFrame(
        {"chrom": ["chrA", "chrA"], "start": [8, 0], "end": [14, 4], "name": ["a", "b"]}
    )
    assert fetch_sequences(open_fasta(fasta), regions) == ["ACACGT", "ACGT"]


def test_fetch_sequences_refuses_truncated_windows(fasta):
    import pandas as pd

    regions = pd.DataFrame({"chrom": ["chrB"], "start": [25], "end": [35], "name": ["past"]})
    with pytest.raises(InputError, match="expected 10 bases for region past"):
        fetch_sequences(open_fasta(fasta), regions)


def test_plain_gzip_fasta_says_bgzip(tmp_path):
    path = tmp_path / "ref.fa.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(">chrA\nACGT\n")
    with pytest.raises(InputError, match="found plain gzip; recompress it with .*bgzip"):
        open_fasta(path)


def test_missing_fasta(tmp_path):
    with pytest.raises(InputError, match="expected a FASTA file, found no such file"):
        open_fasta(tmp_path / "absent.fa")


def test_read_labels_numeric_columns_and_words_left_out(write):
    path = write("labels.tsv", "name\tgroup\tactivity\nr1\tx\t1.5\nr2\ty\t\n")
    labels = read_labels(path)
    assert list(labels.columns) == ["activity"]
    assert labels.loc["r1", "activity"] == 1.5 and np.isnan(labels.loc["r2", "activity"])


def test_read_labels_non_number_names_line_column_and_value(write):
    path = write("labels.tsv", "name\tactivity\nr1\t1.5\nr2\thigh\n")
    with pytest.raises(
        InputError, match=r"line 3, column 'activity': expected a number, found 'high'"
    ):
        read_labels(path)


def test_read_labels_unknown_target(write):
    path = write("labels.tsv", "name\tactivity\nr1\t1\n")
    with pytest.raises(InputError, match=r"expected target column\(s\) \['expr'\]"):
        read_labels(path, targets=["expr"])


def test_meme_round_trip_through_memelite_and_biopython(tmp_path):
    from Bio import motifs as biomotifs
    from memelite.io import read_meme as memelite_read

    rng = np.random.default_rng(0)
    ppms = {f"motif_{i} name{i}": rng.dirichlet(np.ones(4), size=5 + i).T for i in range(3)}
    path = tmp_path / "m.meme"
    background = [0.3, 0.2, 0.2, 0.3]
    write_meme(ppms, path, background=background)
    assert "E=" not in path.read_text()  # no E-value claimed where no search gave one
    for read in (read_meme, memelite_read):
        back = read(path)
        assert list(back) == list(ppms)
        for key in ppms:
            np.testing.assert_allclose(back[key], ppms[key], atol=1e-6)
    with open(path) as handle:
        parsed = biomotifs.parse(handle, "minimal")
    assert [m.name for m in parsed] == [k.split()[0] for k in ppms]
    assert [parsed.background[b] for b in "ACGT"] == pytest.approx(background)
    assert write_meme(ppms, background=background) == path.read_text()


def test_npz_round_trip_and_atomic_write_leaves_no_temp(tmp_path):
    write_npz(tmp_path / "a.npz", X=np.arange(6).reshape(2, 3), names=np.array(["a", "b"]))
    data = read_npz(tmp_path / "a.npz")
    assert data["X"].tolist() == [[0, 1, 2], [3, 4, 5]] and data["names"].tolist() == ["a", "b"]
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]


@pytest.mark.parametrize(
    "text, message",
    [
        (
            ">a\nACGT\n>a\nGG\n",
            "line 3: expected a unique sequence name, found 'a' again (first on line 1)",
        ),
        (">a\nAC!T\n", "line 2: expected IUPAC bases in 'a', found '!'"),
        ("ACGT\n>a\nAC\n", "line 1: expected a '>' header first, found 'ACGT'"),
        ("", "expected FASTA records, found none"),
    ],
)
def test_read_sequences_errors(write, text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        read_sequences(write("lib.fa", text))


def test_read_sequences_plain_gzip_headers_and_soft_masking(tmp_path):
    path = tmp_path / "lib.fa.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(">chr1:10-20 peak\nacgtNN\nAC\n>chr2:5-9\n\n")
    assert read_sequences(path) == {"chr1:10-20": "acgtNNAC", "chr2:5-9": ""}


def test_duplicate_contigs_in_indexed_fasta(write):
    with pytest.raises(InputError, match="expected unique sequence names"):
        open_fasta(write("dup.fa", ">a\nACGT\n>a\nGGGG\n"))


def test_read_bed_label_columns(write):
    path = write("a.bed", "chrA\t0\t10\tr\t0\t+\t2.5\nchrA\t0\t10\tq\t0\t+\thigh\n")
    with pytest.raises(
        InputError, match=re.escape("line 2, column 7: expected a number, found 'high'")
    ):
        read_bed(path, label_columns=[7])


def test_library_table_refuses_bad_bases(write):
    path = write("t.tsv", "name\tsequence\ty\na\tACGT\t1\nb\tACXT\t2\n")
    with pytest.raises(
        InputError, match=re.escape("line 3, column 'sequence': expected IUPAC bases")
    ):
        read_library_table(path)
    assert read_labels(
        write("u.tsv", "name\tsequence\ty\na\tACGT\t1\n"), exclude=["sequence"]
    ).columns.tolist() == ["y"]


def test_read_shards_concatenates_rows_and_keeps_per_file_keys(tmp_path):
    from seqsal.io import read_shards

    for k in range(2):
        write_npz(
            tmp_path / f"{k}.npz",
            X=np.full((2, 4, 3), k, np.uint8),
            names=np.array([f"a{k}", f"b{k}"]),
            targets=np.array(["y", "z"]),
        )
    data = read_shards([tmp_path / "0.npz", tmp_path / "1.npz"])
    assert data["names"].tolist() == ["a0", "b0", "a1", "b1"] and data["X"].shape == (4, 4, 3)
    assert data["targets"].tolist() == ["y", "z"]


def test_memory_mapped_shards_index_like_the_concatenation(tmp_path):
    from seqsal.io import read_shards

    rng = np.random.default_rng(0)
    eye = np.eye(4, dtype=np.uint8)  # one-hot, as an encode shard's X must be
    arrays = [eye[rng.integers(0, 4, size=(n, 5))].transpose(0, 2, 1).copy() for n in (3, 4, 2)]
    for k, X in enumerate(arrays):
        write_npz(tmp_path / f"{k}.npz", X=X, names=np.array([f"r{k}{i}" for i in range(len(X))]))
    paths = [tmp_path / f"{k}.npz" for k in range(3)]
    whole = np.concatenate(arrays)
    stacked = read_shards(paths, mmap_key="X")
    assert stacked["X"].shape == whole.shape and len(stacked["names"]) == 9
    for index in ([8, 0, 3, 3, 5], slice(2, 7), whole[:, 0, 0] == 1, 4):
        np.testing.assert_array_equal(stacked["X"][index], whole[index])
    for index in range(9):  # a row as a view of its shard's map
        row = stacked["X"][index]
        assert isinstance(row, np.memmap)
        np.testing.assert_array_equal(row, whole[index])
    write_npz(tmp_path / "c.npz", compress=True, X=arrays[0], names=np.array(["a", "b", "c"]))
    np.testing.assert_array_equal(
        read_shards([tmp_path / "c.npz"], mmap_key="X")["X"][[2, 0]], arrays[0][[2, 0]]
    )


def test_bgzip_fasta_is_read_like_plain(tmp_path, fasta):
    from Bio import bgzf

    from seqsal.io import fetch_onehot

    path = tmp_path / "ref.fa.gz"
    with bgzf.BgzfWriter(str(path)) as handle:
        handle.write(fasta.read_text())
    import pandas as pd

    regions = pd.DataFrame(
        {
            "chrom": ["chrA", "chrB"],
            "start": [3, 5],
            "end": [13, 15],
            "name": ["a", "b"],
            "strand": ["+", "-"],
        }
    )
    np.testing.assert_array_equal(
        fetch_onehot(open_fasta(path), regions), fetch_onehot(open_fasta(fasta), regions)
    )


def test_npz_writer_streams_rows_and_npz_rows_reads_them(tmp_path):
    from seqsal.io import npz_rows, npz_writer, read_npz, read_shards, write_npz

    X = np.arange(7 * 4 * 5, dtype=np.uint8).reshape(7, 4, 5)
    with npz_writer(tmp_path / "a.npz") as add:
        out = add("hyp", (7, 4, 5), np.float16)
        for start in (4, 0):  # any order of row blocks
            out[start : start + 4] = X[start : start + 4].astype(np.float32)
        add("names", array=np.array(list("abcdefg")))
    data = read_npz(tmp_path / "a.npz")
    np.testing.assert_array_equal(data["hyp"], X.astype(np.float16))
    assert data["names"].tolist() == list("abcdefg")
    assert read_shards([tmp_path / "a.npz"], mmap_key="hyp")["hyp"][2:4].shape == (2, 4, 5)
    write_npz(tmp_path / "x.npz", X=X)
    rows = npz_rows(tmp_path / "x.npz", "X")
    assert rows.shape == (7, 4, 5) and len(rows) == 7
    np.testing.assert_array_equal(rows[2:5], X[2:5])
    np.testing.assert_array_equal(rows[5:20], X[5:])
    write_npz(tmp_path / "z.npz", compress=True, X=X)
    np.testing.assert_array_equal(npz_rows(tmp_path / "z.npz", "X"), X)
    with pytest.raises(ValueError):  # nothing written when the block fails
        with npz_writer(tmp_path / "b.npz") as add:
            add("a", (2,), np.int8)
            raise ValueError("boom")
    assert not (tmp_path / "b.npz").exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "a.npz",
        "x.npz",
        "z.npz",
    ]


@pytest.mark.parametrize("block", [7, 64, 1 << 24])
@pytest.mark.parametrize("trailing_newline", [True, False])
def test_shards_partition_the_regions_whatever_the_block_size(
    tmp_path, monkeypatch, block, trailing_newline
):
    import seqsal.io.bed as io

    monkeypatch.setattr(io, "_BLOCK", block)
    rows = [f"chr1\t{i}\t{i + 5}\tr{i}\t0\t+" for i in range(103)]
    path = tmp_path / "regions.bed"
    path.write_text("\n".join(rows) + ("\n" if trailing_newline else ""))
    for n in (1, 3, 10, 103):
        shards = [io.read_regions(path, shard=k, n_shards=n) for k in range(n)]
        assert [len(s) for s in shards] == [len(a) for a in np.array_split(range(103), n)]
        assert pd.concat(shards)["name"].tolist() == [f"r{i}" for i in range(103)]


def test_onehot_blocks_in_order_equal_the_whole_array_whatever_the_contig_order(fasta):
    from seqsal.io import fetch_onehot, iter_onehot, open_fasta

    regions = pd.DataFrame(
        {
            "chrom": ["chrA", "chrB", "chrA", "chrA", "chrB"],
            "start": [0, 3, 10, 20, 0],
            "end": [8, 11, 18, 28, 8],
            "name": list("abcde"),
            "score": 0,
            "strand": ["+", "-", "-", "+", "+"],
        }
    )
    handle = open_fasta(fasta)
    whole = fetch_onehot(handle, regions)
    for chunk in (1, 2, 5):
        blocks = list(iter_onehot(handle, regions, chunk=chunk))
        assert [len(b) for b in blocks][0] == chunk
        np.testing.assert_array_equal(np.concatenate(blocks), whole)


def test_npz_stream_refuses_a_wrong_row_count_and_writes_nothing(tmp_path):
    from seqsal.io import npz_stream, read_npz

    with npz_stream(tmp_path / "ok.npz") as out:
        with out.rows("X", (5, 2), np.uint8) as append:
            append(np.ones((3, 2), np.uint8))
            append(np.zeros((2, 2), np.uint8))
        out.add("names", np.array(["a", "b", "c", "d", "e"]))
    data = read_npz(tmp_path / "ok.npz")
    assert data["X"].sum() == 6 and data["names"].tolist() == list("abcde")
    with pytest.raises(ValueError, match="expected 5 rows, found 3"):
        with npz_stream(tmp_path / "short.npz") as out:
            with out.rows("X", (5, 2), np.uint8) as append:
                append(np.ones((3, 2), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.npz"]


def test_read_bed_names_an_empty_chromosome_field(write):
    with pytest.raises(InputError, match=r"line 2: expected a chromosome name, found an empty"):
        read_bed(write("e.bed", "chrA\t0\t5\n\t0\t1\n"))


def test_io_imports_nothing_above_it():
    """seqsal.io reads and writes formats: it imports the errors, the codec
    (seqsal.encode) and itself, never a stage, so a stage can import any io module."""
    import ast
    from pathlib import Path

    import seqsal.io

    allowed = {"seqsal.errors", "seqsal.encode"}
    for path in Path(seqsal.io.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                name = "seqsal." * (node.level == 2) + "seqsal.io." * (node.level == 1)
                name += node.module or ""
                assert name.startswith("seqsal.io") or name in allowed, (path.name, name)


def test_a_damaged_shard_is_named_with_the_stage_to_rerun(tmp_path):
    import pandas as pd

    from seqsal.io.shards import read_attributions, read_shards

    folder = tmp_path / "results" / "attribute"
    path = folder / "000.npz"
    names = np.array(["a", "b", "c"])
    attr = np.arange(12, dtype=np.float32).reshape(3, 4)
    write_npz(path, attr=attr, pred=np.zeros((3, 1), np.float32), names=names)
    regions = pd.DataFrame({"name": names})
    data, _ = read_attributions([path], regions, mmap_key="attr")
    assert data["attr"][1].tolist() == attr[1].tolist()
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # truncated: no central directory
    for read in (lambda: read_npz(path), lambda: read_shards([path], mmap_key="attr")):
        with pytest.raises(InputError, match=r"000.npz: expected a complete .npz shard.*attribute"):
            read()
    bad = attr.copy()
    bad[2, 1] = np.inf  # a value overwritten inside an intact archive
    write_npz(path, attr=bad, pred=np.zeros((3, 1), np.float32), names=names)
    for mmap_key in ("attr", None):
        with pytest.raises(
            InputError, match="expected finite attr values, found NaN or infinity in row 2"
        ):
            read_attributions([path], regions, mmap_key=mmap_key)


def test_bed_files_are_written_sorted_and_seqlets_name_their_columns(tmp_path):
    from seqsal.io.bed import SEQLET_COLUMNS, read_regions, read_seqlets, write_bed

    seqlets = pd.DataFrame(
        [
            ["chr2", 5, 15, "b:0", 10, ".", "b", 1.5, 0.01, 0.02],
            ["chr10", 7, 17, "c:0", 20, ".", "c", -2.0, 0.001, 0.01],
            ["chr2", 1, 11, "a:0", 30, ".", "a", 0.5, 0.1, 0.2],
        ],
        columns=SEQLET_COLUMNS,
    )
    write_bed(seqlets, tmp_path / "seqlets.bed", column_names=True)
    lines = (tmp_path / "seqlets.bed").read_text().splitlines()
    assert lines[0] == "#" + "\t".join(SEQLET_COLUMNS)
    assert [line.split("\t")[3] for line in lines[1:]] == ["c:0", "a:0", "b:0"]  # C order
    back = read_seqlets(tmp_path / "seqlets.bed")
    assert back["name"].tolist() == ["c:0", "a:0", "b:0"] and back["q_value"].iloc[0] == 0.01
    # regions.bed with a column line (a user's edit) reads whole and by shard
    regions = seqlets.iloc[:, :6].assign(pad_left=0, pad_right=0)
    write_bed(regions, tmp_path / "regions.bed", column_names=True)
    whole = read_regions(tmp_path / "regions.bed")
    shards = [read_regions(tmp_path / "regions.bed", shard=k, n_shards=2) for k in (0, 1)]
    assert whole["name"].tolist() == ["c:0", "a:0", "b:0"]
    assert pd.concat(shards)["name"].tolist() == whole["name"].tolist()


def test_name_column_keys_the_tables_and_an_absent_one_is_named(write):
    from seqsal.io.tables import read_label_table

    path = write("t.tsv", "sequence\tid\tname\ty\nACGT\tv1\tGATA box\t1\nACGA\tv2\tTATA\t2\n")
    assert list(read_library_table(path, name_column="id")) == ["v1", "v2"]
    labels = read_label_table(path, exclude=["sequence"], helpers=["name"], name_column="id")
    assert labels.index.tolist() == ["v1", "v2"] and labels["y"].tolist() == [1.0, 2.0]
    assert list(read_library_table(path)) == ["GATA box", "TATA"]  # default: 'name'
    with pytest.raises(InputError, match=r"expected a 'ID' column of names \(input.name_column\)"):
        read_library_table(path, name_column="ID")


def test_a_run_that_found_no_motif_writes_a_meme_file_read_back_as_none(tmp_path):
    from seqsal.io.meme import read_meme, write_meme

    path = tmp_path / "motifs.meme"
    write_meme({}, path)
    assert read_meme(path, empty_ok=True) == {}
    with pytest.raises(InputError, match="motifs.meme: expected MEME motifs, found none"):
        read_meme(path)  # a motif file a user gives must hold motifs
