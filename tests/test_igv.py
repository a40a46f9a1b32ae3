"""Real clients: IGV desktop and igv.js load seqsal's genome and tracks and draw them."""

import re

import numpy as np
import pandas as pd
from conftest import (
    IGV_BASES,
    igv_snapshot,
    needs_chromium,
    needs_igv,
    pixels_of,
    render_in_chromium,
)

from seqsal.io import write_fasta
from seqsal.io.bed import bedgraph_text, write_bed, write_tabix
from seqsal.io.bigwig import write_bigwig
from seqsal.io.igv import igv_page, igv_session
from seqsal.tracks import Track


@needs_igv
def test_igv_desktop_draws_the_tracks_over_the_bases(tmp_path):
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
    write_bed(seqlets, tmp_path / "seqlets.bed")
    write_tabix(tmp_path / "seqlets.bed")
    tracks = [
        {
            "path": tmp_path / "attribution.bw",
            "name": "attribution",
            "color": "31,119,180",
            "altColor": "214,39,40",
            "range": track.symmetric_range(),
        },
        {"path": tmp_path / "seqlets.bed.gz", "name": "seqlets"},
    ]
    session = tmp_path / "igv_session.xml"
    session.write_text(
        igv_session(genome=fasta, locus="chr1:1050-1300", folder=tmp_path, tracks=tracks)
    )
    wide = igv_snapshot(session, fasta, "chr1:1095-1265", tmp_path)
    assert wide.std() > 0.05
    for color in ((31, 119, 180), (214, 39, 40)):  # bars of both signs: a symmetric scale
        assert pixels_of(wide, color) > 50, color
    close = igv_snapshot(session, fasta, "chr1:1100-1140", tmp_path)  # 41 bp: letters
    assert all(pixels_of(close, rgb) > 20 for rgb in IGV_BASES.values())


@needs_chromium
def test_igv_js_page_draws_the_tracks_offline(tmp_path):
    rng = np.random.default_rng(0)
    sequence = "".join(rng.choice(list("ACGT"), size=400))
    loci = pd.DataFrame({"chrom": ["chr2"], "start": [1000], "end": [1400], "name": ["r1"]})
    values = pd.DataFrame(
        {"chrom": "chr2", "start": np.arange(1000, 1400), "value": np.sin(np.arange(400) / 9)}
    )
    seqlet = "chr2\t1100\t1110\tmotif_1:GATA1\t800\t+\t1100\t1110\t31,119,180\n"
    attrs = 'gene_id "g1"; transcript_id "t1"; gene_name "GENE1";'
    gene = "".join(
        f"chr2\tsim\t{kind}\t{s}\t{e}\t.\t+\t.\t{attrs}\n"
        for kind, s, e in (("transcript", 1201, 1390), ("exon", 1201, 1250), ("exon", 1331, 1390))
    )
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
                {"name": "genes", "format": "gtf", "text": gene},
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
    assert np.all(np.abs(image - np.array((0, 0, 150)) / 255) < 0.03, axis=-1).sum() > 100


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


def test_igv_js_is_shipped_pinned_and_licensed():
    import hashlib
    from importlib.resources import files

    from seqsal.io.igv import IGV_JS_SHA256, IGV_JS_VERSION

    folder = files("seqsal") / "js"
    library = (folder / "igv.min.js").read_bytes()
    assert hashlib.sha256(library).hexdigest() == IGV_JS_SHA256
    assert f'"{IGV_JS_VERSION}"'.encode() in library
    assert "MIT License" in (folder / "igv.LICENSE").read_text()
    assert IGV_JS_VERSION in (folder / "README.md").read_text()


def test_a_fresh_install_pulls_no_notebook_stack():
    """seqsal's runtime dependencies, followed through every installed distribution's own
    requirements (extras left out), hold neither IPython nor ipykernel."""
    import re
    from importlib.metadata import PackageNotFoundError, requires

    def name(requirement):
        return re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")

    seen, todo = set(), ["seqsal"]
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        seen.add(package)
        try:
            needed = requires(package) or []
        except PackageNotFoundError:
            continue
        todo += [name(r) for r in needed if "extra ==" not in r]
    assert "torch" in seen and "pybigwig" in seen  # the walk found the real tree
    assert not {"ipython", "ipykernel", "igv-notebook", "jupyter"} & seen, sorted(seen)


@needs_igv
def test_igv_desktop_draws_the_gene_annotation_copy(tmp_path):
    """tracks.annotation's sorted bgzip + tabix copy opens in IGV desktop as a gene
    track: its exons drawn in IGV's gene colour."""
    from seqsal.io.annotation import write_annotation

    rng = np.random.default_rng(0)
    fasta = tmp_path / "genome.fa"
    write_fasta({"chr1": "".join(rng.choice(list("ACGT"), size=5000))}, fasta)
    attrs = 'gene_id "g1"; transcript_id "t1"; gene_name "GENE1";'
    rows = [("exon", 1301, 1400), ("transcript", 1101, 1400), ("exon", 1101, 1200)]
    (tmp_path / "genes.gtf").write_text(
        "".join(f"chr1\tsim\t{kind}\t{s}\t{e}\t.\t+\t.\t{attrs}\n" for kind, s, e in rows)
    )
    genes = tmp_path / "annotation.gtf.gz"
    assert write_annotation(tmp_path / "genes.gtf", {"chr1": 5000}, genes)["n_features"] == 3
    session = tmp_path / "igv_session.xml"
    tracks = [{"path": genes, "name": "genes"}]
    session.write_text(
        igv_session(genome=fasta, locus="chr1:1000-1500", folder=tmp_path, tracks=tracks)
    )
    image = igv_snapshot(session, fasta, "chr1:1000-1500", tmp_path)
    assert pixels_of(image, (0, 0, 178)) > 200  # IGV's default feature colour
