"""Random file content never crashes the readers with anything but seqsal's own errors."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqsal.io import InputError, read_bed, read_labels, read_sequences
from seqsal.regions import prepare_regions

FIELD = st.one_of(
    st.text(alphabet=string.printable.replace("\t", "").replace("\n", ""), max_size=6),
    st.integers(-5, 50).map(str),
    st.sampled_from(["+", "-", ".", "chrA", "chrB", ""]),
)
LINE = st.lists(FIELD, min_size=0, max_size=11).map("\t".join)
BED = st.lists(LINE, max_size=8).map(lambda lines: "\n".join(lines) + "\n")
FASTA = st.text(alphabet="ACGTNacgtn>!; \n\r\t-xyz12", max_size=200)

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(text=BED)
def test_random_bed_reads_or_raises_input_error(tmp_path, text):
    path = tmp_path / "random.bed"
    path.write_text(text)
    try:
        bed = read_bed(path, label_columns=[7])
        prepare_regions(bed, {"chrA": 40, "chrB": 10}, width=8, source=str(path))
    except InputError as error:
        assert str(path) in str(error) and "\n" not in str(error)


@SETTINGS
@given(text=FASTA)
def test_random_fasta_reads_or_raises_input_error(tmp_path, text):
    path = tmp_path / "random.fa"
    path.write_text(text)
    try:
        sequences = read_sequences(path)
    except InputError as error:
        assert str(path) in str(error)
    else:
        assert all(set(s.upper()) <= set("ACGTNRYSWKMBDHV") for s in sequences.values())


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.text(alphabet="abc", min_size=1, max_size=3),
            st.sampled_from(["1", "2.5", "", "NA", "x", "-3e2"]),
        ),
        max_size=6,
    )
)
def test_random_labels_read_or_raise_input_error(tmp_path, rows):
    path = tmp_path / "labels.tsv"
    path.write_text("name\ty\n" + "".join(f"{n}\t{v}\n" for n, v in rows))
    try:
        read_labels(path, targets=["y"])
    except InputError as error:
        assert str(path) in str(error)


BYTES = st.binary(max_size=400)


def _one_line(error, path):
    return str(path) in str(error) and "\n" not in str(error)


@SETTINGS
@given(data=BYTES, cut=st.integers(0, 2000))
def test_random_or_cut_shards_read_or_raise_input_error(tmp_path, data, cut):
    import numpy as np

    from seqsal.io import read_npz, read_shards, write_npz

    path = tmp_path / "results" / "encode" / "000.npz"
    write_npz(path, X=np.zeros((3, 4, 10), np.uint8), names=np.array(["a", "b", "c"]))
    whole = path.read_bytes()
    for content in (data, whole[:cut], whole[:cut] + data):  # noise, a cut, a cut and noise
        path.write_bytes(content)
        for read in (lambda: read_npz(path), lambda: read_shards([path], mmap_key="X")):
            try:
                read()
            except InputError as error:
                assert _one_line(error, path)


@SETTINGS
@given(data=BYTES, cut=st.integers(0, 4000))
def test_random_or_cut_checkpoints_are_refused_in_one_line(tmp_path, data, cut):
    import pytest

    from seqsal.models import build_model, load_checkpoint, save_checkpoint

    path = tmp_path / "model.pt"
    model = build_model("cnn", input_length=40, n_outputs=1)
    hparams = {"input_length": 40, "n_outputs": 1}
    save_checkpoint(
        model, path, arch="cnn", hparams=hparams, targets=["y"], tasks=["regression"], metrics={}
    )
    whole = path.read_bytes()
    for content in (data, whole[:cut]):
        if content == whole:
            continue
        path.write_bytes(content)
        with pytest.raises(InputError) as raised:
            load_checkpoint(path)
        assert _one_line(raised.value, path)


@SETTINGS
@given(data=BYTES)
def test_random_meme_files_read_or_raise_input_error(tmp_path, data):
    from seqsal.io import read_meme

    path = tmp_path / "db.meme"
    path.write_bytes(b"MEME version 4\n\nMOTIF m1 X\nletter-probability matrix: w= 2\n" + data)
    try:
        read_meme(path)
    except InputError as error:
        assert _one_line(error, path)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.lists(st.integers(-2, 5), max_size=3),
)


@SETTINGS
@given(
    section=st.sampled_from(["input", "model", "attribute", "seqlets", "motifs", "evaluate"]),
    key=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=14),
    value=VALUES,
)
def test_random_config_values_give_lines_naming_the_key(section, key, value):
    from pathlib import Path

    import yaml

    from seqsal.config import config_errors

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    known = list(config[section])
    target = known[hash(key) % len(known)] if key not in config[section] else key
    config[section][target if len(key) % 2 else key] = value
    for line in config_errors(config, root / "workflow" / "schemas" / "config.schema.yaml"):
        assert line.startswith(f"config {section}") and "\n" not in line
