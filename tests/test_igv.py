"""Real clients: IGV desktop and igv.js load seqsal's genome and tracks and draw them."""

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import needs_chromium, render_in_chromium

from seqsal.io import write_fasta
from seqsal.io.bed import bedgraph_text, write_bed, write_tabix
from seqsal.io.bigwig import write_bigwig
from seqsal.io.igv import igv_page, igv_session
from seqsal.tracks import Track


def test_igv_desktop_draws_the_tracks(tmp_path):
    if shutil.which("igv") is None or shutil.which("xvfb-run") is None:
        pytest.skip("IGV desktop or xvfb-run is not installed (apt-get install igv xvfb)")
    rng = np.random.default_rng(0)
    fasta = tmp_path / "genome.fa"
    write_fasta({"chr1": "".join(rng.choice(list("ACGT"), size=5000))}, fasta)
    track = Track(np.array(["chr1"]), np.array([1000]), [np.sin(np.arange(400) / 9)])
    write_bigwig(track, {"chr1": 5000}, tmp_path / "attribution.bw")
    seqlets = pd.DataFrame(
        {
            "chrom": ["chr1", "chr1"],
            "start": [1100, 1250],
            "end": [1110, 1260],
            "name": ["motif_1:GATA1", "motif_2:TAL1"],
            "score": [800, 500],
            "strand": ["+", "-"],
            "thickStart": [1100, 1250],
            "thickEnd": [1110, 1260],
            "itemRgb": ["31,119,180", "214,39,40"],
        }
    )
    write_bed(seqlets, tmp_path / "seqlets.bed", track_line='track name="seqlets" itemRgb="On"')
    write_tabix(tmp_path / "seqlets.bed")
    tracks = [
        {"path": tmp_path / "attribution.bw", "name": "attribution", "color": "31,119,180"},
        {"path": tmp_path / "seqlets.bed.gz", "name": "seqlets"},
    ]
    session = tmp_path / "igv_session.xml"
    session.write_text(
        igv_session(genome=fasta, locus="chr1:1050-1300", folder=tmp_path, tracks=tracks)
    )
    # IGV 2.16 fetches its default genome from the internet at start-up unless told
    # otherwise: a throw-away home (Java's user.home, not only $HOME) whose preferences
    # name the local FASTA
    home = tmp_path / "home"
    (home / "igv").mkdir(parents=True)
    (home / "igv" / "prefs.properties").write_text(f"DEFAULT_GENOME_KEY={fasta}\n")
    batch = tmp_path / "batch.txt"
    batch.write_text(
        f"new\ngenome {fasta}\nload {session}\ngoto chr1:1095-1265\n"
        f"snapshotDirectory {tmp_path}\nsnapshot igv.png\nexit\n"
    )
    done = subprocess.run(
        ["xvfb-run", "-a", "igv", "-b", str(batch)],
        env={"HOME": str(home), "_JAVA_OPTIONS": f"-Duser.home={home}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    png = tmp_path / "igv.png"
    assert png.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    import matplotlib.image

    image = matplotlib.image.imread(png)[..., :3]
    blue = np.all(np.abs(image - np.array([31, 119, 180]) / 255) < 0.02, axis=-1)
    assert image.std() > 0.05 and blue.sum() > 50  # drawn, with the attribution's color


@needs_chromium
def test_igv_js_page_draws_the_tracks_offline(tmp_path):
    rng = np.random.default_rng(0)
    sequence = "".join(rng.choice(list("ACGT"), size=400))
    loci = pd.DataFrame({"chrom": ["chr2"], "start": [1000], "end": [1400], "name": ["r1"]})
    values = pd.DataFrame(
        {"chrom": "chr2", "start": np.arange(1000, 1400), "value": np.sin(np.arange(400) / 9)}
    )
    seqlet = "chr2\t1100\t1110\tmotif_1:GATA1\t800\t+\t1100\t1110\t31,119,180\n"
    page = tmp_path / "igv.html"
    page.write_text(
        igv_page(
            loci=loci,
            sequences=[sequence],
            sizes={"chr1": 10_000, "chr2": 5000},
            tracks=[
                {
                    "name": "attribution",
                    "format": "bedgraph",
                    "text": bedgraph_text(values),
                    "color": "31,119,180",
                    "altColor": "214,39,40",
                },
                {"name": "seqlets", "format": "bed", "text": seqlet},
            ],
        )
    )
    dom, console, image = render_in_chromium(page, tmp_path, width=1400, height=900)
    assert '<body data-ready="true">' in dom  # igv.js built the browser
    assert "chr2:1,001-1,400" in dom or "chr2:1001-1400" in dom
    assert console == "", console  # nothing fetched from the network, no errors
    image = image[..., :3]
    for color in ((31, 119, 180), (214, 39, 40)):  # bars of both signs drawn
        assert np.all(np.abs(image - np.array(color) / 255) < 0.02, axis=-1).sum() > 50


# Names a hostile (or unlucky) file can hold: each would run script if written raw.
HOSTILE = [
    '<img src=x onerror="document.body.dataset.pwned=1">',
    '"><script>document.body.dataset.pwned=2</script>',
    "</script><script>document.body.dataset.pwned=3</script>",
]


def test_igv_page_escapes_every_user_string():
    chrom, name, target = HOSTILE
    loci = pd.DataFrame({"chrom": [chrom], "start": [0], "end": [20], "name": [name]})
    html = igv_page(
        loci=loci,
        sequences=["ACGT" * 5],
        sizes={chrom: 100},
        tracks=[{"name": target, "format": "bed", "text": f"{chrom}\t1\t5\t{name}\n"}],
    )
    for hostile in HOSTILE:
        assert hostile not in html
    assert html.count("<script>") == 2  # igv.js and the page's own


@needs_chromium
def test_igv_page_with_hostile_names_runs_no_injected_script(tmp_path):
    chrom, name, target = HOSTILE
    loci = pd.DataFrame({"chrom": [chrom], "start": [0], "end": [20], "name": [name]})
    page = tmp_path / "igv.html"
    page.write_text(
        igv_page(
            loci=loci,
            sequences=["ACGT" * 5],
            sizes={chrom: 100},
            tracks=[{"name": target, "format": "bed", "text": f"{chrom}\t1\t5\t{name}\n"}],
        )
    )
    dom, _, _ = render_in_chromium(page, tmp_path, width=1000, height=600)
    body = re.search(r"<body[^>]*>", dom).group()
    assert 'data-ready="true"' in body and "pwned" not in body  # igv.js ran, nothing else


def test_igv_session_keeps_hostile_names_as_attribute_values(tmp_path):
    import xml.etree.ElementTree as ET

    from seqsal.io.igv import igv_session

    name = HOSTILE[1] + "&'"
    xml = igv_session(
        genome=tmp_path / f"{name}.fa",
        locus=f"{name}:1-20",
        folder=tmp_path,
        tracks=[{"path": tmp_path / "a.bw", "name": name}],
    )
    session = ET.fromstring(xml)
    assert session.get("locus") == f"{name}:1-20" and session.get("genome") == f"{name}.fa"
    assert session.find("Panel/Track").get("name") == name
