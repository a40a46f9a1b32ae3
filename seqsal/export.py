"""Writers for what people open: bigWig and BED tracks, the IGV session."""

from __future__ import annotations

import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pandas as pd

from .io import write_text


def write_tabix(bed_path) -> None:
    """bgzip a sorted BED file beside itself (``.gz``) and index it with tabix
    (``.gz.tbi``), atomically; a leading ``track`` line is kept as a header."""
    import shutil
    import tempfile

    import pysam

    bed_path = Path(bed_path)
    with bed_path.open() as handle:
        first = handle.readline()
    with tempfile.TemporaryDirectory(dir=bed_path.parent) as scratch:
        copy = Path(scratch) / bed_path.name
        shutil.copyfile(bed_path, copy)
        pysam.tabix_index(  # the bed preset, spelled out: a preset ignores line_skip
            str(copy),
            seq_col=0,
            start_col=1,
            end_col=2,
            zerobased=True,
            line_skip=int(first.startswith("track")),
            force=True,
        )
        os.replace(f"{copy}.gz.tbi", f"{bed_path}.gz.tbi")
        os.replace(f"{copy}.gz", f"{bed_path}.gz")


def write_bedgraph(track, path, *, name: str = "attribution") -> None:
    """Write a :class:`~seqsal.tracks.Track` as bedGraph text (one line per base), atomically."""
    track = track.to_frame()
    bedgraph = pd.DataFrame(
        {
            "chrom": track["chrom"],
            "start": track["start"],
            "end": track["start"] + 1,
            "value": track["value"],
        }
    )
    text = bedgraph.to_csv(sep="\t", header=False, index=False, float_format="%.6g")
    write_text(f'track type=bedGraph name="{name}"\n' + text, path)


def write_bed(bed: pd.DataFrame, path, *, track_line: str | None = None) -> None:
    """Write a BED DataFrame with at most one ``track`` line, atomically."""
    header = f"{track_line}\n" if track_line else ""
    write_text(header + bed.to_csv(sep="\t", header=False, index=False, lineterminator="\n"), path)


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
