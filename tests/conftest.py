"""Shared fixtures: tiny FASTA/BED files written in the test, devices, the shared data."""

import shutil
import subprocess
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is absent (Debian package: chromium)"
)


def render_in_chromium(page: Path, folder: Path, *, width=1200, height=1600):
    """Open ``page`` in headless Chromium twice: its DOM once scripts have run, then a
    screenshot with the console on stderr. Returns ``(dom, console, screenshot pixels)``."""
    import matplotlib.image

    profile, shot = folder / "chromium-profile", folder / "shot.png"
    common = [
        CHROMIUM,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
    ]
    run = dict(capture_output=True, text=True, timeout=120)
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], **run).stdout
    done = subprocess.run(
        [
            *common,
            "--enable-logging=stderr",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        **run,
    )
    assert shot.exists(), done.stderr[-500:]
    console = "\n".join(line for line in done.stderr.splitlines() if ":CONSOLE" in line)
    return dom, console, matplotlib.image.imread(shot)


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
