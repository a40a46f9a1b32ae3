"""Shared fixtures: tiny FASTA/BED files written in the test, devices, the shared data."""

from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        metafunc.parametrize("device", devices)


@pytest.fixture
def shared_data():
    """The real data sets of ../shared/data; skip when the folder is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"real data folder {SHARED} is absent (see README: Tests)")
    return SHARED


@pytest.fixture
def fasta(tmp_path):
    """A two-contig FASTA: chrA (40 bp, soft-masked and with N) and chrB (30 bp)."""
    path = tmp_path / "ref.fa"
    path.write_text(
        ">chrA description\nACGTACGTACacgtNNGGCC\nTTTTAAAACCCCGGGGATAT\n"
        ">chrB\nGATTACAGATTACAGATTACAGATTACAGA\n"
    )
    return path


@pytest.fixture
def write(tmp_path):
    """Write text to a file in tmp_path and return its path."""

    def _write(name, text):
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write
