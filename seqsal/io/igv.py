"""IGV documents: the desktop session (XML) and the self-contained igv.js page."""

from __future__ import annotations

import base64
import gzip
import html
import json
import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pandas as pd


def igv_session(*, genome, tracks: list, locus: str, folder) -> str:
    """An IGV desktop session (XML) with paths relative to ``folder``.

    Parameters
    ----------
    genome : str or Path
        The reference FASTA.
    tracks : list of dict
        Each with ``path`` and ``name``, optionally ``color``, ``altColor``, ``renderer``.
    locus : str
        Where IGV opens, ``chrom:start-end`` (1-based, as IGV reads it).
    folder : str or Path
        Where the session file lives; paths are written relative to it.
    """

    def rel(path):
        return os.path.relpath(os.path.abspath(path), os.path.abspath(folder))

    resources = "\n".join(f"    <Resource path={quoteattr(rel(t['path']))}/>" for t in tracks)
    entries = []
    for t in tracks:
        attrs = {
            "id": rel(t["path"]),
            "name": t["name"],
            "autoScale": "true",
            "visible": "true",
            **{k: t[k] for k in ("color", "altColor", "renderer") if k in t},
        }
        entries.append(
            "    <Track " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items()) + "/>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        f'<Session genome={quoteattr(rel(genome))} locus={quoteattr(locus)} version="8">\n'
        f"  <Resources>\n{resources}\n  </Resources>\n"
        '  <Panel name="DataPanel">\n' + "\n".join(entries) + "\n  </Panel>\n</Session>\n"
    )


def igv_js() -> str:
    """The igv.js library (MIT) shipped by the ``igv-notebook`` package, found without
    importing that package (which would import IPython)."""
    import importlib.util

    spec = importlib.util.find_spec("igv_notebook")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("igv-notebook is not installed: pip install igv-notebook")
    library = Path(spec.submodule_search_locations[0]) / "js" / "igv.min.js"
    return library.read_text().replace("</script", "<\\/script")  # safe inside <script>


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
        lines within the loci), and optionally ``color``, ``altColor``.
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
