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


needs_igv = pytest.mark.skipif(
    shutil.which("igv") is None or shutil.which("xvfb-run") is None,
    reason="IGV desktop or xvfb-run is not installed (apt-get install igv xvfb)",
)
# IGV desktop's colors for the bases of its sequence track
IGV_BASES = {"A": (0, 150, 0), "C": (0, 0, 255), "G": (209, 113, 5), "T": (255, 0, 0)}


def igv_snapshot(session: Path, fasta: Path, locus: str, folder: Path):
    """IGV desktop (under Xvfb) opens ``session`` and snapshots ``locus``; the pixels.

    IGV 2.16 fetches its default genome from the internet at start-up unless told
    otherwise: a throw-away home (Java's user.home, not only $HOME) whose preferences
    name the local FASTA."""
    import matplotlib.image

    home = folder / "igv-home"
    (home / "igv").mkdir(parents=True, exist_ok=True)
    (home / "igv" / "prefs.properties").write_text(f"DEFAULT_GENOME_KEY={fasta}\n")
    batch = folder / "igv-batch.txt"
    batch.write_text(
        f"new\ngenome {fasta}\nload {session}\ngoto {locus}\n"
        f"snapshotDirectory {folder}\nsnapshot igv.png\nexit\n"
    )
    done = subprocess.run(
        ["xvfb-run", "-a", "igv", "-b", str(batch)],
        env={"HOME": str(home), "_JAVA_OPTIONS": f"-Duser.home={home}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    png = folder / "igv.png"
    assert png.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    return matplotlib.image.imread(png)[..., :3]


def pixels_of(image, rgb, tolerance=0.02) -> int:
    """How many pixels of ``image`` have the color ``rgb`` (0-255)."""
    import numpy as np

    return int(np.all(np.abs(image - np.array(rgb) / 255) < tolerance, axis=-1).sum())


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
