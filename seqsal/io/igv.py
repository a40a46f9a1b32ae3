"""IGV documents: the desktop session (XML) and the self-contained igv.js page."""

from __future__ import annotations

import base64
import gzip
import html
import json
import os

import pandas as pd

SEQUENCE_TRACK = {
    "attributeKey": "Reference sequence",
    "clazz": "org.broad.igv.track.SequenceTrack",
    "id": "Reference sequence",
    "name": "Reference sequence",
    "sequenceTranslationStrandValue": "POSITIVE",
    "shouldShowTranslation": "false",
    "visible": "true",
}


def igv_session(*, genome, tracks: list, locus: str, folder) -> str:
    """An IGV desktop session (XML) with paths relative to ``folder``.

    One panel: the signal tracks (bigWig), then the reference sequence right under their
    bars, then the feature tracks (BED).

    Parameters
    ----------
    genome : str or Path
        The reference FASTA.
    tracks : list of dict
        Each with ``path`` and ``name``, optionally ``color``, ``altColor``, ``renderer``
        and ``range`` (a ``(minimum, maximum)`` fixed data range instead of autoscale).
    locus : str
        Where IGV opens, ``chrom:start-end`` (1-based, as IGV reads it).
    folder : str or Path
        Where the session file lives; paths are written relative to it.

    Returns
    -------
    xml : str
    """
    import xml.etree.ElementTree as ET

    def rel(path):
        return os.path.relpath(os.path.abspath(path), os.path.abspath(folder))

    session = ET.Element(
        "Session",
        genome=rel(genome),
        hasGeneTrack="false",
        hasSequenceTrack="true",
        locus=locus,
        version="8",
    )
    resources = ET.SubElement(session, "Resources")
    panel = ET.SubElement(session, "Panel", name="DataPanel")

    def is_signal(t):
        return str(t["path"]).endswith((".bw", ".bigWig", ".bedGraph"))

    signals = [t for t in tracks if is_signal(t)]
    for t in [*signals, None, *(t for t in tracks if not is_signal(t))]:
        if t is None:
            ET.SubElement(panel, "Track", SEQUENCE_TRACK)
            continue
        ET.SubElement(resources, "Resource", path=rel(t["path"]))
        attrs = {"id": rel(t["path"]), "name": t["name"], "visible": "true"}
        attrs.update({k: t[k] for k in ("color", "altColor", "renderer") if k in t})
        attrs["autoScale"] = "false" if "range" in t else "true"
        if is_signal(t):
            attrs["height"] = "80"
        track = ET.SubElement(panel, "Track", attrs)
        if "range" in t:
            low, high = t["range"]
            ET.SubElement(
                track,
                "DataRange",
                baseline="0.0",
                drawBaseline="true",
                flipAxis="false",
                minimum=f"{low:.6g}",
                maximum=f"{high:.6g}",
                type="LINEAR",
            )
    ET.indent(session)
    xml = ET.tostring(session, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n{xml}\n'


IGV_JS_VERSION = "3.8.10"
# sha256 of seqsal/js/igv.min.js, the file of igv.js's npm release (see seqsal/js/README.md)
IGV_JS_SHA256 = "87b991ae2a720978172e269dd5127c495e56df5af31144dff19c83124e2f5744"


def igv_js() -> str:
    """The igv.js library (MIT, shipped with seqsal as package data), safe inside
    ``<script>``.

    Returns
    -------
    text : str
    """
    from importlib.resources import files

    library = (files("seqsal") / "js" / "igv.min.js").read_text(encoding="utf-8")
    return library.replace("</script", "<\\/script")


def script_json(value) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>``: ``<``, ``>`` and ``&``
    are written as escapes (and, as ``json.dumps`` does, every non-ASCII character, the
    JavaScript line separators included), so no string from a user's file (a contig or a
    target named ``</script><script>...``) can end the script.

    Parameters
    ----------
    value : object
        JSON-serialisable.

    Returns
    -------
    text : str
        A JavaScript literal equal to ``value``.
    """
    text = json.dumps(value)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text


def _data_uri(text: str) -> str:
    """``text`` gzipped as a base64 data URI, the way igv.js reads embedded files."""
    packed = base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()
    return f"data:application/gzip;base64,{packed}"


def igv_page(*, loci: pd.DataFrame, sequences: list, sizes: dict, tracks: list) -> str:
    """A self-contained igv.js page: the library, the reference around each locus and
    the tracks' data there, all embedded (it opens from disk, offline).

    Parameters
    ----------
    loci : pandas.DataFrame
        ``chrom, start, end, name``: the places shown, one button each.
    sequences : list of str
        The + strand reference of each locus.
    sizes : dict
        ``{contig: length}``: each contig keeps its real length and coordinates.
    tracks : list of dict
        Each with ``name``, ``format`` (``bedgraph`` or ``bed``), ``text`` (the file's
        lines within the loci), and optionally ``color``, ``altColor`` and ``range``
        (a fixed ``(min, max)`` instead of autoscale).
    """
    fasta = "".join(
        f">{c}:{s + 1}-{e} @len={sizes[c]}\n{seq}\n"
        for c, s, e, seq in zip(loci["chrom"], loci["start"], loci["end"], sequences)
    )
    config = {
        "reference": {
            "id": "seqsal",
            "name": "seqsal regions",
            "fastaURL": _data_uri(fasta),
            "indexed": False,
        },
        "locus": f"{loci['chrom'].iloc[0]}:{loci['start'].iloc[0] + 1}-{loci['end'].iloc[0]}",
        "showChromosomeWidget": False,
        "loadDefaultGenomes": False,  # offline: no fetch of igv.org's genome list
        "tracks": [
            {
                "name": t["name"],
                "url": _data_uri(t["text"]),
                "format": t["format"],
                "type": "wig" if t["format"] == "bedgraph" else "annotation",
                "height": 80 if t["format"] == "bedgraph" else 40,
                **({"displayMode": "EXPANDED"} if t["format"] == "bed" else {}),
                **{k: f"rgb({t[k]})" for k in ("color", "altColor") if k in t},
                **({"min": t["range"][0], "max": t["range"][1]} if "range" in t else {}),
            }
            for t in tracks
        ],
    }
    buttons = "\n".join(
        f'<button data-locus="{html.escape(f"{c}:{s + 1}-{e}")}">'
        f"{html.escape(f'{n} ({c}:{s + 1:,}-{e:,})')}</button>"
        for c, s, e, n in zip(loci["chrom"], loci["start"], loci["end"], loci["name"])
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>seqsal tracks</title>
<style>
body {{ font-family: sans-serif; margin: 1em 2em; }}
#loci button {{ margin: 2px; font-size: 0.85em; }}
</style>
</head>
<body>
<h1>seqsal tracks</h1>
<p>The attribution tracks, seqlets and motif hits around {len(loci)} regions (those with the
most significant seqlets), with the reference there; all of it is embedded in this page.
The whole genome's tracks open in IGV desktop from <code>igv_session.xml</code>.</p>
<div id="loci">{buttons}</div>
<div id="igv"></div>
<script>{igv_js()}</script>
<script>
const config = {script_json(config)};
igv.createBrowser(document.getElementById("igv"), config).then(browser => {{
  document.querySelectorAll("#loci button").forEach(button =>
    button.addEventListener("click", () => browser.search(button.dataset.locus)));
  document.body.dataset.ready = "true";
}});
</script>
</body>
</html>
"""
