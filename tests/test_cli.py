import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from seqsal.cli import main
from seqsal.errors import InputError
from seqsal.io import read_npz


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return status, [line for line in err.splitlines() if " INFO " not in line]


def encode_library(capsys, folder, *extra):
    """``seqsal encode`` on what ``seqsal regions --mode library`` wrote in ``folder``."""
    return run(
        capsys,
        "encode",
        "--regions",
        folder / "regions.bed",
        "--fasta",
        folder / "library.fa",
        "--labels",
        folder / "labels.tsv",
        *extra,
        "--out",
        folder / "x.npz",
    )[0]


@pytest.mark.parametrize(
    "bed, expected",
    [
        ("chrA\t5\tx\n", "line 1: expected an integer end, found 'x'"),
        ("chrA\t9\t5\n", "line 1: expected end > start, found start=9 end=5"),
        ("chrZ\t1\t5\n", "expected a chromosome of the FASTA index (chrA, chrB), found 'chrZ'"),
        ("# nothing\n", "expected at least one region, found none"),
    ],
)
def test_bad_bed_gives_one_clear_line(capsys, write, fasta, tmp_path, bed, expected):
    path = write("in.bed", bed)
    status, lines = run(
        capsys,
        "regions",
        "--bed",
        path,
        "--fasta",
        fasta,
        "--width",
        4,
        "--out-dir",
        tmp_path / "out",
    )
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith("seqsal regions: error: ") and expected in lines[0]
    assert str(path) in lines[0] and "Traceback" not in lines[0]


def test_non_numeric_label_gives_one_clear_line(capsys, write, fasta, tmp_path):
    bed = write("in.bed", "chrA\t0\t10\tr1\nchrA\t10\t20\tr2\n")
    labels = write("labels.tsv", "name\tactivity\nr1\t0.5\nr2\tn/a?\n")
    status, lines = run(
        capsys,
        "regions",
        "--bed",
        bed,
        "--fasta",
        fasta,
        "--labels",
        labels,
        "--out-dir",
        tmp_path / "out",
    )
    assert status == 1 and len(lines) == 1
    assert "labels.tsv, line 3, column 'activity': expected a number, found 'n/a?'" in lines[0]


def test_rows_past_the_contig_end_go_to_rejected_tsv(capsys, write, fasta, tmp_path):
    bed = write("in.bed", "chrA\t10\t20\tok\t0\t+\nchrB\t0\t4\tedge\t0\t-\n")
    status, _ = run(
        capsys,
        "regions",
        "--bed",
        bed,
        "--fasta",
        fasta,
        "--width",
        10,
        "--out-dir",
        tmp_path / "out",
    )
    assert status == 0
    rejected = pd.read_csv(tmp_path / "out" / "rejected.tsv", sep="\t")
    assert rejected[["line", "name"]].values.tolist() == [[2, "edge"]]
    regions = pd.read_csv(tmp_path / "out" / "regions.bed", sep="\t", header=None)
    assert regions[3].tolist() == ["ok"]


def test_regions_then_encode(capsys, write, fasta, tmp_path):
    bed = write("in.bed", "chrA\t0\t10\tp\t0\t+\nchrA\t0\t10\tm\t0\t-\nchrB\t0\t10\tq\t0\t.\n")
    labels = write("labels.tsv", "name\ty\np\t1\nm\t2\nq\t3\n")
    assert (
        run(
            capsys,
            "regions",
            "--bed",
            bed,
            "--fasta",
            fasta,
            "--labels",
            labels,
            "--width",
            10,
            "--out-dir",
            tmp_path,
        )[0]
        == 0
    )
    outs = []
    for shard in (0, 1):
        out = tmp_path / f"{shard}.npz"
        assert (
            run(
                capsys,
                "encode",
                "--regions",
                tmp_path / "regions.bed",
                "--fasta",
                fasta,
                "--labels",
                labels,
                "--shard",
                shard,
                "--n-shards",
                2,
                "--out",
                out,
            )[0]
            == 0
        )
        outs.append(read_npz(out))
    names = np.concatenate([o["names"] for o in outs]).tolist()
    assert names == ["m", "p", "q"]  # sorted as bedtools sorts: ties by name
    X = np.concatenate([o["X"] for o in outs])
    from seqsal.encode import one_hot_to_sequences

    assert one_hot_to_sequences(X) == ["GTACGTACGT", "ACGTACGTAC", "GATTACAGAT"]
    assert np.concatenate([o["y"] for o in outs])[:, 0].tolist() == [2, 1, 3]


def test_missing_checkpoint_is_one_line(capsys, tmp_path):
    from seqsal.io import write_npz

    write_npz(tmp_path / "x.npz", X=np.zeros((1, 4, 10), np.uint8), names=np.array(["a"]))
    status, lines = run(
        capsys,
        "attribute",
        "--model",
        tmp_path / "none.pt",
        "--onehot",
        tmp_path / "x.npz",
        "--device",
        "cpu",
        "--out",
        tmp_path / "a.npz",
    )
    assert (
        status == 1
        and len(lines) == 1
        and "expected a model checkpoint, found no such file" in lines[0]
    )


def test_bad_base_in_reference_names_contig_and_region(capsys, write, tmp_path):
    fasta = write("ref.fa", ">chrA\nACGTACGTAC\nACGTAC*TAC\n")
    bed = write("in.bed", "chrA\t0\t10\tfine\nchrA\t10\t20\tbroken\n")
    assert (
        run(
            capsys, "regions", "--bed", bed, "--fasta", fasta, "--width", 10, "--out-dir", tmp_path
        )[0]
        == 0
    )
    status, lines = run(
        capsys,
        "encode",
        "--regions",
        tmp_path / "regions.bed",
        "--fasta",
        fasta,
        "--out",
        tmp_path / "x.npz",
    )
    assert status == 1 and len(lines) == 1
    assert (
        "contig chrA, region broken: expected IUPAC nucleotide codes, found '*' at offset 6"
        in lines[0]
    )


def test_library_table_with_groups_and_bed_label_columns(capsys, write, tmp_path):
    table = write(
        "lib.tsv",
        "id\tsequence\tfamily\tactivity\n"
        "s1\tACGTACGTAC\tf1\t1.0\ns2\tacgtNNgtac\tf2\t2.0\ns3\tACG\tf2\t3.0\n",
    )
    status, _ = run(
        capsys,
        "regions",
        "--mode",
        "library",
        "--table",
        table,
        "--group-by",
        "family",
        "--width",
        10,
        "--width-policy",
        "pad",
        "--out-dir",
        tmp_path,
    )
    assert status == 0
    labels = pd.read_csv(tmp_path / "labels.tsv", sep="\t")
    assert labels.columns.tolist() == ["name", "activity", "family"]
    assert encode_library(capsys, tmp_path, "--group-by", "family") == 0
    data = read_npz(tmp_path / "x.npz")
    from seqsal.encode import one_hot_to_sequences

    assert one_hot_to_sequences(data["X"]) == ["ACGTACGTAC", "ACGTNNGTAC", "NNNACGNNNN"]
    assert data["groups"].tolist() == ["f1", "f2", "f2"] and data["y"][:, 0].tolist() == [1, 2, 3]
    peaks = write("p.narrowPeak", "s1\t0\t10\tpk\t0\t.\t7.5\t1\t1\t4\n")
    status, _ = run(
        capsys,
        "regions",
        "--bed",
        peaks,
        "--fasta",
        tmp_path / "library.fa",
        "--bed-targets",
        7,
        "--width",
        4,
        "--out-dir",
        tmp_path / "g",
    )
    assert status == 0
    assert pd.read_csv(tmp_path / "g" / "labels.tsv", sep="\t").values.tolist() == [["pk", 7.5]]
    assert pd.read_csv(tmp_path / "g" / "regions.bed", sep="\t", header=None).iloc[0, 1] == 2


def test_library_negatives_and_held_out_names(capsys, write, tmp_path):
    fasta = write("lib.fa", "".join(f">s{i}\n{'ACGTTGCAGATAAGGC' * 3}\n" for i in range(30)))
    status, _ = run(
        capsys,
        "regions",
        "--mode",
        "library",
        "--fasta",
        fasta,
        "--width",
        48,
        "--negatives",
        "dinucleotide_shuffle",
        "--out-dir",
        tmp_path,
    )
    assert status == 0
    labels = pd.read_csv(tmp_path / "labels.tsv", sep="\t").set_index("name")["bound"]
    assert labels["s0"] == 1 and labels["s0_shuffled"] == 0 and len(labels) == 60
    assert encode_library(capsys, tmp_path) == 0
    held = write("test_names.txt", "s1\ns1_shuffled\ns2\n")
    assert (
        run(
            capsys,
            "train",
            "--onehot",
            tmp_path / "x.npz",
            "--test-names",
            held,
            "--max-epochs",
            1,
            "--device",
            "cpu",
            "--out-dir",
            tmp_path / "train",
        )[0]
        == 0
    )
    metrics = json.loads((tmp_path / "train" / "metrics.json").read_text())
    assert metrics["test"]["bound"]["n"] == 3
    teacher = str(tmp_path / "train" / "model.pt")  # a student of that model
    student = ["--onehot", tmp_path / "x.npz", "--max-epochs", 1, "--device", "cpu"]
    status, _ = run(
        capsys, "train", *student, "--distill-teachers", teacher, "--out-dir", tmp_path / "s"
    )
    metrics = json.loads((tmp_path / "s" / "metrics.json").read_text())
    assert status == 0 and metrics["training"]["distill"] == {"teachers": [teacher], "alpha": 1.0}
    labelled = write("y.tsv", "name\ty\ns0\t1\n")
    status, lines = run(
        capsys,
        "regions",
        "--mode",
        "library",
        "--fasta",
        fasta,
        "--labels",
        labelled,
        "--negatives",
        "dinucleotide_shuffle",
        "--out-dir",
        tmp_path / "no",
    )
    assert status == 1 and "input.negatives: expected no labels" in lines[0]


def test_padded_windows_encode_with_n_and_map_back_to_the_genome(capsys, write, fasta, tmp_path):
    from seqsal.encode import one_hot_to_sequences
    from seqsal.io import read_regions
    from seqsal.tracks import genome_positions

    bed = write(
        "in.bed", "chrB\t0\t4\tleft\t0\t+\nchrB\t26\t30\tright\t0\t-\nchrB\t10\t20\tmid\t0\t+\n"
    )
    assert (
        run(
            capsys,
            "regions",
            "--bed",
            bed,
            "--fasta",
            fasta,
            "--width",
            8,
            "--out-of-bounds",
            "pad",
            "--out-dir",
            tmp_path,
        )[0]
        == 0
    )
    assert (
        run(
            capsys,
            "encode",
            "--regions",
            tmp_path / "regions.bed",
            "--fasta",
            fasta,
            "--out",
            tmp_path / "x.npz",
        )[0]
        == 0
    )
    X = read_npz(tmp_path / "x.npz")["X"]
    # chrB = GATTACAGATTACAGATTACAGATTACAGA
    assert one_hot_to_sequences(X) == ["NNGATTAC", "ACAGATTA", "NNTCTGTA"]  # sorted
    positions = genome_positions(read_regions(tmp_path / "regions.bed"), 8)
    assert positions[0].tolist() == [-1, -1, 0, 1, 2, 3, 4, 5]
    assert positions[2].tolist() == [-1, -1, 29, 28, 27, 26, 25, 24]


def test_constant_labels_stop_before_training(capsys, tmp_path):
    from seqsal.io import write_npz

    write_npz(
        tmp_path / "x.npz",
        X=np.zeros((6, 4, 10), np.uint8),
        y=np.ones((6, 1), np.float32),
        names=np.array(list("abcdef")),
        chroms=np.array(list("aabbcc")),
        targets=np.array(["y"]),
    )
    status, lines = run(
        capsys,
        "train",
        "--onehot",
        tmp_path / "x.npz",
        "--device",
        "cpu",
        "--out-dir",
        tmp_path / "t",
    )
    assert (
        status == 1 and "input.labels: expected labels that vary, found constant ['y']" in lines[0]
    )


def test_shuffled_null_attributions_do_not_depend_on_shards(capsys, tmp_path):
    """``attribute --shuffled``: attributions of dinucleotide shuffles of a share of the
    regions (no ``hyp``), drawn and shuffled by name, so two shards give the rows one
    does; DeepLIFT-SHAP's references likewise. ``seqlets --null-attributions`` reads them."""
    import torch

    from seqsal.encode import one_hot_encode
    from seqsal.io import write_npz
    from seqsal.models import build_model, save_checkpoint

    torch.manual_seed(0)
    hparams = {"input_length": 40, "n_outputs": 1, "n_filters": 4, "kernel_size": 5, "hidden": 4}
    model = build_model("cnn", **hparams)
    save_checkpoint(
        model.eval(),
        tmp_path / "model.pt",
        arch="cnn",
        hparams=hparams,
        targets=["y"],
        tasks=["regression"],
        metrics={},
    )
    rng = np.random.default_rng(0)
    X = one_hot_encode(["".join(rng.choice(list("ACGT"), 40)) for _ in range(30)])
    names = np.array([f"r{i}" for i in range(30)])
    for name, rows in {"all": slice(0, 30), "a": slice(0, 11), "b": slice(11, 30)}.items():
        write_npz(tmp_path / f"{name}.npz", X=X[rows], names=names[rows])
    common = ["--model", tmp_path / "model.pt", "--device", "cpu", "--method", "deeplift_shap"]
    common += ["--n-shuffles", "3"]
    for name in ("all", "a", "b"):
        for kind, extra in (("attr", []), ("null", ["--shuffled", "0.5"])):
            out = tmp_path / f"{kind}_{name}.npz"
            argv = ["attribute", *common, "--onehot", tmp_path / f"{name}.npz", *extra]
            assert run(capsys, *argv, "--out", out) == (0, [])
    for kind in ("attr", "null"):
        whole = read_npz(tmp_path / f"{kind}_all.npz")
        parts = [read_npz(tmp_path / f"{kind}_{name}.npz") for name in "ab"]
        assert ("hyp" in whole) == (kind == "attr")
        assert whole["names"].tolist() == [n for p in parts for n in p["names"].tolist()]
        np.testing.assert_allclose(
            np.concatenate([p["attr"] for p in parts]), whole["attr"], rtol=1e-4, atol=1e-6
        )
    null = read_npz(tmp_path / "null_all.npz")
    assert 0 < len(null["names"]) < 30 and null["attr"].shape == (len(null["names"]), 40)
    (tmp_path / "regions.bed").write_text("".join(f"{n}\t0\t40\t{n}\t0\t+\n" for n in names))
    seqlets = ["seqlets", "--regions", tmp_path / "regions.bed", "--window", "5"]
    seqlets += ["--attributions", tmp_path / "attr_all.npz"]
    nulls = ["--null-attributions", tmp_path / "null_a.npz", tmp_path / "null_b.npz"]
    assert run(capsys, *seqlets, *nulls, "--out", tmp_path / "s.bed") == (0, [])
    # a null with no regions is refused in one line
    assert run(
        capsys,
        "attribute",
        *common,
        "--onehot",
        tmp_path / "a.npz",
        "--shuffled",
        "0",
        "--out",
        tmp_path / "empty.npz",
    ) == (0, [])
    status, lines = run(
        capsys, *seqlets, "--null-attributions", tmp_path / "empty.npz", "--out", tmp_path / "s.bed"
    )
    assert status == 1 and len(lines) == 1 and "found none (raise seqlets.null_regions)" in lines[0]


def test_every_subcommand_parses_loads_calls_its_stage_and_saves_in_30_lines():
    import ast
    import inspect

    from seqsal.cli import STAGES, stage_module

    for stage in STAGES:
        module = stage_module(stage)
        source = inspect.getsource(module)
        run = next(
            node
            for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef) and node.name == "run"
        )
        body = run.body[1:]  # after the docstring
        assert run.end_lineno - body[0].lineno + 1 <= 30, stage
        stages = (module.STAGE,) if isinstance(module.STAGE, str) else module.STAGE
        for name in stages:
            assert name.split(":")[1] in source, (stage, name)


def test_regions_names_the_files_a_mode_lacks_in_one_line(tmp_path, capsys):
    assert main(["regions", "--mode", "library", "--out-dir", str(tmp_path)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        "seqsal regions: error: input.table, input.fasta: expected one of them in library "
        "mode, found neither"
    )


def test_names_with_quotes_are_names_from_the_library_to_the_shards(capsys, write, tmp_path):
    """TSV has no quoting: a name that starts with a quote swallows no line."""
    rows = [('"s1', "ACGTACGTAC", 1.0), ('s"2', "GGGCCCAAAT", 2.0), ("s3", "TTTTACGTAC", 3.0)]
    table = write(
        "lib.tsv", "name\tsequence\tactivity\n" + "".join(f"{n}\t{s}\t{y}\n" for n, s, y in rows)
    )
    status, _ = run(
        capsys,
        "regions",
        "--mode",
        "library",
        "--table",
        table,
        "--width",
        10,
        "--out-dir",
        tmp_path,
    )
    assert status == 0
    assert (tmp_path / "rejected.tsv").read_text().count("\n") == 1  # the header alone
    assert encode_library(capsys, tmp_path) == 0
    data = read_npz(tmp_path / "x.npz")
    assert data["names"].tolist() == ['"s1', 's"2', "s3"]
    assert data["y"][:, 0].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"\x00\x01\x02\xff\xfe binary", "line 1: expected text (UTF-8), found bytes that are not"),
        (b"c1\t0\t10\tok\nc1\t5\t15\tna\xefve\n", "line 2: expected text (UTF-8)"),
        (
            gzip.compress(
                "".join(f"chrA\t{i % 30}\t{i % 30 + 1}\tr{i}\n" for i in range(9000)).encode()
            )[:2000],
            "expected a complete gzip file",
        ),
    ],
)
def test_a_bed_that_is_not_text_gets_one_line_naming_it(capsys, fasta, tmp_path, content, expected):
    bed = tmp_path / "regions.bed"
    bed.write_bytes(content)
    status, err = run(
        capsys, "regions", "--bed", bed, "--fasta", fasta, "--width", 10, "--out-dir", tmp_path
    )
    (line,) = err
    assert status == 1 and f"{bed}, line " in line and expected in line


def test_unreadable_inputs_and_a_full_disk_get_one_line(
    capsys, write, fasta, tmp_path, monkeypatch
):
    import errno

    import seqsal.io.atomic

    bed = write("r.bed", "chrA\t0\t10\tr1\n")
    labels = write("labels.tsv", "")
    cases = [
        (["--bed", bed, "--fasta", tmp_path], f"{tmp_path}: expected a"),  # a directory
        (["--bed", bed, "--fasta", fasta, "--labels", labels], "found an empty file"),
    ]
    for extra, expected in cases:
        status, err = run(capsys, "regions", *extra, "--width", 10, "--out-dir", tmp_path / "o")
        (line,) = err
        assert status == 1 and expected in line, line

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(seqsal.io.atomic.os, "replace", full)
    status, err = run(
        capsys,
        "regions",
        "--bed",
        bed,
        "--fasta",
        fasta,
        "--width",
        10,
        "--out-dir",
        tmp_path / "o",
    )
    (line,) = err
    assert status == 1 and line.endswith(
        "no space left on device while writing it; free space and rerun"
    )
    assert "regions.bed" in line and not list((tmp_path / "o").glob("*.bed"))


def test_a_meme_file_of_random_bytes_gets_one_line(write, tmp_path):
    from seqsal.io import load_motif_database

    path = tmp_path / "db.meme"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match=r"db.meme, line \d+: expected text \(UTF-8\)"):
        load_motif_database(str(path))


def test_every_seqsal_process_waits_passively_and_sizes_its_pools_to_the_job(tmp_path):
    """OpenMP threads yield their core when idle unless the user chose otherwise, and
    ``--threads`` (the rule's threads) sizes PyTorch's and the BLAS pools."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = (
        "import os, sys; from seqsal.cli import use_threads; use_threads(int(sys.argv[1])); "
        "import torch; print(os.environ['OMP_WAIT_POLICY'], torch.get_num_threads(), "
        "os.environ['OPENBLAS_NUM_THREADS'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "1"], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["PASSIVE", "1", "1"]
    chosen = subprocess.run(
        [sys.executable, "-c", code, "2"],
        env={**env, "OMP_WAIT_POLICY": "ACTIVE"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert chosen.stdout.split() == ["ACTIVE", "2", "2"]


def test_the_console_gets_progress_at_most_every_30_s_and_the_log_file_everything(
    tmp_path, capsys, monkeypatch
):
    """``--log`` (every rule passes it): the whole log in the file; on the console, a
    job's progress lines no closer than 30 s apart, and its warnings."""
    import logging
    import time

    from seqsal.progress import Progress, log_to

    clock = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    log_to(tmp_path / "job.log", "attribute")
    try:
        log = logging.getLogger("seqsal")
        progress = Progress(log, "grad_x_input", 100, every=10)
        for _ in range(10):
            clock[0] += 10
            progress.update(10)
        log.info("a detail")
        log.warning("a warning")
    finally:
        log_to(None, "attribute")  # this process's later tests log as before
    console = capsys.readouterr().err.splitlines()
    done = [f"seqsal attribute: grad_x_input: {n} of 100 regions" for n in (10, 40, 70, 100)]
    assert [line.split(" (")[0] for line in console[:-1]] == done
    assert console[-1] == "seqsal attribute: a warning"
    written = (tmp_path / "job.log").read_text()
    assert written.count("grad_x_input: ") == 10 and "a detail" in written
