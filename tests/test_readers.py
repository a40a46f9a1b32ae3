"""Every reader of a user's or a stage's file, fed random bytes, another reader's file,
a valid file cut short or with noise after it, reads it or says why in one line
(:class:`InputError`): never another exception. Devices, endless lines and huge files
are refused in bounded time and memory."""

import functools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqsal.errors import InputError

BED = b"chr1\t10\t60\tr1\t0\t+\nchr1\t100\t150\tr2\t0\t-\n"
FASTA = b">chr1 the first\nACGTACGTNNacgtACGTAC\nGGGGCCCCAAAATTTTACGT\n>chr2\nGATTACAGATTACA\n"
VCF = (
    b"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=40>\n"
    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t5\tv1\tA\tG\t.\t.\t.\n"
)
VARIANTS_TSV = b"chrom\tpos\tref\talt\tname\nchr1\t5\tA\tG\tv1\n"
LABELS = b"name\ty\nr1\t1.5\nr2\t-0.25\n"
MEME = (
    b"MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\n"
    b"MOTIF m1 NAME\nletter-probability matrix: alength= 4 w= 2\n"
    b"0.25 0.25 0.25 0.25\n0.7 0.1 0.1 0.1\n"
)
CONFIG = b"seqlets:\n  alpha: 0.1\nmodel:\n  hparams: {n_filters: 8}\n"
BEDGRAPH = b"track type=bedGraph\nchr1\t0\t10\t1.5\nchr1\t12\t20\t-0.5\n"
GTF = b'chr1\tsim\texon\t1\t10\t.\t+\t.\tgene_id "g1"; transcript_id "t1";\n'


def _checkpoint(folder: Path) -> bytes:
    from seqsal.models import build_model, save_checkpoint

    path = folder / "made.pt"
    hparams = {"input_length": 20, "n_outputs": 1}
    save_checkpoint(
        build_model("cnn", **hparams), path, arch="cnn", hparams=hparams, targets=["y"],
        tasks=["regression"], metrics={},
    )  # fmt: skip
    return path.read_bytes()


def _shard(folder: Path, **arrays) -> bytes:
    from seqsal.io import write_npz

    path = folder / "made.npz"
    write_npz(path, **arrays)
    return path.read_bytes()


def _read_config(path):
    from seqsal.config import config_errors, read_config_file

    root = Path(__file__).resolve().parents[1]
    problems = config_errors(read_config_file(path), root / "seqsal" / "config.schema.yaml")
    if problems:
        raise InputError(f"{path}: {problems[0]}")


def _read_attribution_shard(path):
    from seqsal.io.shards import read_attributions

    read_attributions([path], pd.DataFrame({"name": ["r1", "r2"]}))


def _read_variants(path):
    """Variants are rejected row by row, each with its reason (rejected.tsv): a file
    none of whose rows is a variant counts as refused here."""
    from seqsal.io import read_variants

    variants, rejected = read_variants(path)
    if not len(variants):
        raise InputError(f"{path}: no variant ({len(rejected)} rows rejected)")


def _read_signal(path):
    from seqsal.io.signal import signal_sums

    windows = pd.DataFrame({"chrom": ["chr1", "chr1"], "start": [0, 5], "end": [10, 30]})
    signal_sums(path, windows, {"chr1": 40})


def _read_annotation(path):
    from seqsal.io.annotation import write_annotation

    with tempfile.TemporaryDirectory() as out:
        write_annotation(path, {"chr1": 40}, Path(out) / "genes.gtf.gz", kind="gtf")


def _readers():
    from seqsal.io import read_bed, read_labels, read_meme, read_sequences
    from seqsal.io.fasta import contig_sizes, open_fasta
    from seqsal.io.shards import onehot_rows
    from seqsal.models import load_checkpoint

    return {
        "bed": read_bed,
        "library fasta": read_sequences,
        "genome fasta": lambda path: contig_sizes(open_fasta(path)),
        "variants": _read_variants,
        "labels": read_labels,
        "meme": read_meme,
        "checkpoint": load_checkpoint,
        "encode shard": onehot_rows,
        "attribution shard": _read_attribution_shard,
        "config": _read_config,
        "signal": _read_signal,
        "annotation": _read_annotation,
    }


READERS = _readers()


@functools.cache
def valid_files() -> dict:
    """One valid file of each kind, as bytes (the VCF and TSV both feed ``variants``)."""
    folder = Path(tempfile.mkdtemp(prefix="seqsal-valid-"))
    X = np.zeros((2, 4, 20), np.uint8)
    X[:, 1, :] = 1
    return {
        "bed": BED,
        "library fasta": FASTA,
        "genome fasta": FASTA,
        "variants": VCF,
        "variants tsv": VARIANTS_TSV,
        "labels": LABELS,
        "meme": MEME,
        "checkpoint": _checkpoint(folder),
        "encode shard": _shard(folder, X=X, names=np.array(["r1", "r2"])),
        "attribution shard": _shard(
            folder,
            hyp=np.zeros((2, 4, 20), np.float32),
            attr=np.zeros((2, 20), np.float32),
            pred=np.zeros((2, 1), np.float32),
            names=np.array(["r1", "r2"]),
        ),
        "config": CONFIG,
        "signal": BEDGRAPH,
        "annotation": GTF,
    }


def read_or_refuse(reader: str, path: Path):
    """Run a reader; return None, or the one line it refused the file with."""
    try:
        READERS[reader](path)
    except InputError as error:
        line = str(error)
        assert "\n" not in line and str(path) in line, line
        return line
    return None


def test_each_reader_reads_its_own_kind(tmp_path):
    valid = valid_files()
    for kind, content in valid.items():
        path = tmp_path / f"own-{kind.replace(' ', '_')}"
        path.write_bytes(content)
        assert read_or_refuse(kind.replace(" tsv", ""), path) is None, kind


def test_each_reader_refuses_every_other_kind_in_one_line(tmp_path):
    """A file of another kind given in its place (a FASTA as a BED, an encode shard as
    attributions): one line, never a traceback, never read as good."""
    # a BED or a variant table is a table of text and numbers, as a label table is: its
    # names then match no region, and each region is reported without labels in
    # rejected.tsv (the regions stage's check, not the reader's)
    alike = {("library fasta", "genome fasta"), ("variants", "variants tsv")}
    alike |= {("labels", "bed"), ("labels", "variants tsv")}
    # a bedGraph is a BED (its value the name) and a table of numbers
    alike |= {("bed", "signal"), ("labels", "signal")}
    valid, failures = valid_files(), []
    for reader in READERS:
        for kind, content in valid.items():
            if kind == reader or (reader, kind) in alike or (kind, reader) in alike:
                continue
            path = tmp_path / f"{reader.replace(' ', '_')}-{kind.replace(' ', '_')}"
            path.write_bytes(content)
            if read_or_refuse(reader, path) is None:
                failures.append((reader, kind))
    assert not failures


SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(
    reader=st.sampled_from(sorted(READERS)),
    noise=st.binary(max_size=300),
    cut=st.floats(0, 1),
    how=st.sampled_from(["noise", "cut", "cut+noise", "noise+whole"]),
)
def test_random_cut_or_noisy_files_are_read_or_refused_in_one_line(
    tmp_path, reader, noise, cut, how
):
    whole = valid_files()[reader]
    head = whole[: int(cut * len(whole))]
    content = {
        "noise": noise,
        "cut": head,
        "cut+noise": head + noise,
        "noise+whole": noise + whole,
    }[how]
    path = tmp_path / "random.file"
    path.write_bytes(content)
    read_or_refuse(reader, path)


PROBE = """
import json, resource, sys, time
from pathlib import Path
from test_readers import read_or_refuse
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
lines = [read_or_refuse(sys.argv[1], Path(path)) for path in sys.argv[2:]]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"lines": lines, "kib": after - before, "s": time.monotonic() - started}))
"""


@pytest.mark.parametrize("reader", sorted(READERS))
def test_endless_and_huge_inputs_are_refused_in_bounded_memory(tmp_path, reader):
    """``/dev/zero`` (a device, no line ends) and a 1 GiB file of one line (sparse: it
    takes no disk): one line each, within 60 s and 64 MiB above what the reader's
    imports take (measured: 0.1 to 2 MiB)."""
    huge = tmp_path / "one-line.txt"
    with open(huge, "wb") as handle:
        handle.truncate(1 << 30)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, reader, "/dev/zero", str(huge)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent,
    )
    assert done.returncode == 0, done.stderr[-1500:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(result["lines"]), result  # both refused, each with its reason
    assert result["kib"] < 64 * 1024, result
