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
