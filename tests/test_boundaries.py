"""What a hostile but fair user gives seqsal's commands: models that break on real
sequences, shards of the wrong kind or content, files in the wrong place. Each is one
line naming the file and what was wrong, with exit status 1, never a good-looking
output."""

import gzip
import json

import numpy as np
import pytest
import torch
from torch import nn

from seqsal.cli import main
from seqsal.io import write_npz
from seqsal.models import build_model, save_checkpoint

SCRIPTING = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
L = 40


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return status, [line for line in err.splitlines() if " INFO " not in line]


def onehot_shard(path, n=3, length=L):
    X = np.zeros((n, 4, length), np.uint8)
    X[:, 2, :] = 1
    write_npz(path, X=X, names=np.array([f"r{i}" for i in range(n)]))
    return path


def checkpoint(path, **meta):
    model = build_model("cnn", input_length=L, n_outputs=1)
    save_checkpoint(
        model, path, arch="cnn", hparams={"input_length": L, "n_outputs": 1},
        targets=["y"], tasks=["regression"], metrics={},
    )  # fmt: skip
    if meta:
        state = torch.load(path, weights_only=True)
        state.update(meta)
        torch.save(state, path)
    return path


class BreaksOnSequence(nn.Module):
    """Finite on the all-zero load check; NaN (or infinity) where a G appears."""

    def __init__(self, value: float):
        super().__init__()
        self.value = value
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        out = (x * self.scale).sum(dim=(1, 2), keepdim=False)[:, None]
        return torch.where(x[:, 2].sum(dim=1, keepdim=True) > 0, out * self.value, out)


@SCRIPTING
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_model_that_breaks_on_real_sequences_stops_attribute(capsys, tmp_path, value):
    path = tmp_path / "breaks.pt"
    meta = {"input_length": L, "targets": ["y"]}
    scripted = torch.jit.script(BreaksOnSequence(value))
    torch.jit.save(scripted, path, _extra_files={"seqsal.json": json.dumps(meta)})
    out = tmp_path / "out.npz"
    status, lines = run(
        capsys, "attribute", "--model", path, "--onehot", onehot_shard(tmp_path / "x.npz"),
        "--out", out, "--device", "cpu",
    )  # fmt: skip
    assert status == 1 and len(lines) == 1 and not out.exists()
    assert f"{path}: expected finite outputs, found" in lines[0] and "'r0'" in lines[0]


@pytest.mark.parametrize(
    "X, names, expected",
    [
        (np.full((3, 4, L), 3.5, np.float32), None, "expected X as uint8 one-hot"),
        (np.full((3, 4, L), 7, np.uint8), None, "expected X one-hot (0 or 1"),
        (None, np.array([1.0, 2.0, 3.0]), "expected region names as text"),
    ],
)
def test_an_encode_shard_of_the_wrong_content_is_refused(capsys, tmp_path, X, names, expected):
    good = np.zeros((3, 4, L), np.uint8)
    good[:, 0] = 1
    shard = tmp_path / "x.npz"
    write_npz(
        shard,
        X=good if X is None else X,
        names=np.array(["a", "b", "c"]) if names is None else names,
    )
    status, lines = run(
        capsys, "attribute", "--model", checkpoint(tmp_path / "m.pt"), "--onehot", shard,
        "--out", tmp_path / "out.npz",
    )  # fmt: skip
    assert status == 1 and len(lines) == 1 and expected in lines[0], lines


def test_a_shard_of_another_stage_is_named_and_never_called_damaged(capsys, tmp_path):
    """An encode shard where attributions belong: say what it is; following the advice
    must not delete a good input."""
    encode = onehot_shard(tmp_path / "results" / "encode" / "000.npz")
    regions = tmp_path / "regions.bed"
    regions.write_text("".join(f"chr1\t{i * L}\t{(i + 1) * L}\tr{i}\t0\t+\n" for i in range(3)))
    status, lines = run(
        capsys, "seqlets", "--attributions", encode, "--regions", regions,
        "--out", tmp_path / "s.bed",
    )  # fmt: skip
    assert status == 1 and len(lines) == 1
    assert "expected an attribution shard" in lines[0] and "found an encode shard" in lines[0]
    assert "delete" not in lines[0] and "damaged" not in lines[0]


@pytest.mark.parametrize(
    "meta, expected",
    [
        ({"rc_average": "no"}, "expected rc_average true or false, found 'no'"),
        ({"oriented": 1}, "expected oriented true, false or null, found 1"),
        ({"targets": [1]}, "expected targets as text"),
    ],
)
def test_checkpoint_metadata_of_the_wrong_type_is_refused(tmp_path, meta, expected):
    from seqsal.errors import InputError
    from seqsal.models import load_checkpoint

    with pytest.raises(InputError, match=expected):
        load_checkpoint(checkpoint(tmp_path / "m.pt", **meta))


def test_encode_shard_arguments_in_range(capsys, tmp_path):
    status, lines = run(
        capsys, "encode", "--regions", "r.bed", "--fasta", "g.fa", "--shard", 7, "--n-shards",
        2, "--out", tmp_path / "x.npz",
    )  # fmt: skip
    assert status == 1 and lines == [
        "seqsal encode: error: --shard: expected a shard below --n-shards 2 (0 to 1), found 7"
    ]
    with pytest.raises(SystemExit):
        main(["encode", "--regions", "r", "--fasta", "g", "--n-shards", "-3", "--out", "x"])
    assert "argument --n-shards: expected an integer >= 1, found '-3'" in capsys.readouterr().err


def test_an_output_folder_that_is_a_file_gets_one_line(capsys, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("")
    status, lines = run(capsys, "simulate", "--out-dir", taken)
    assert status == 1 and lines == [
        f"seqsal simulate: error: {taken}: expected a folder (or nothing) there, found a file"
    ]


def test_variants_files_a_user_has(tmp_path):
    """Plain gzip (not bgzip), POS 0, a contig named with a line separator."""
    from seqsal.errors import InputError
    from seqsal.io import read_bed, read_variants

    header = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    plain = tmp_path / "plain.vcf.gz"
    with gzip.open(plain, "wt") as handle:
        handle.write(header + "chr1\t5\tv1\tA\tG\t.\t.\t.\n")
    with pytest.raises(InputError, match="expected a plain or bgzip-compressed VCF, found plain"):
        read_variants(plain)
    zero = tmp_path / "zero.vcf"
    zero.write_text(header + "chr1\t0\tv0\tN\tG\t.\t.\t.\n")
    kept, rejected = read_variants(zero)
    assert not len(kept) and rejected["reason"].tolist() == ["POS 0: expected a 1-based position"]
    bed = tmp_path / "sep.bed"
    bed.write_text("chr1\u2028x\t0\t10\n")
    with pytest.raises(InputError, match="line 1: expected a chromosome name without spaces"):
        read_bed(bed)


def test_names_from_a_users_file_draw_literally_in_figures():
    """A variant or region name with control characters or ``$`` (mathtext) draws as
    text, with no warning on the console (warnings are errors in this suite)."""
    import io

    from seqsal.plots import allele_logos, attribution_logo

    name = "v\x01\x07 $x_1 \u2028 β"
    rng = np.random.default_rng(0)
    figures = [
        allele_logos(rng.random((4, 9)), rng.random((4, 9)), title=name, start=5, label="A>G"),
        attribution_logo(rng.random((4, 9)), title=name),
    ]
    for figure in figures:
        figure.savefig(io.BytesIO(), format="png")
