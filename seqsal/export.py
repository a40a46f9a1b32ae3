"""Writers for what people open: bigWig and BED tracks, the IGV session."""

from __future__ import annotations

import os
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from .io import atomic_path, write_text


def write_bigwig(track: pd.DataFrame, sizes: dict, path) -> None:
    """Write a per-base track (``chrom, start, value``) as bigWig, atomically.

    Parameters
    ----------
    track : pandas.DataFrame
        One row per base, sorted by contig (in the order of ``sizes``) then start.
    sizes : dict
        ``{contig: length}`` of the reference, in order: the bigWig's header.
    path : str or Path
    """
    import pyBigWig

    chroms = track["chrom"].to_numpy()
    starts = track["start"].to_numpy(np.int64)
    values = track["value"].to_numpy(np.float64)
    # runs of consecutive bases on one contig go in as one fixed-step block each
    breaks = np.flatnonzero((chroms[1:] != chroms[:-1]) | (np.diff(starts) != 1)) + 1
    with atomic_path(path) as tmp:
        bw = pyBigWig.open(tmp, "w")
        # zoom levels help IGV zoom out over long contigs; over tens of thousands of short
        # library contigs they only cost time
        zooms = 10 if len(sizes) <= 10_000 else 0
        bw.addHeader([(chrom, int(length)) for chrom, length in sizes.items()], maxZooms=zooms)
        for first, end in zip(np.r_[0, breaks], np.r_[breaks, len(starts)]):
            bw.addEntries(
                str(chroms[first]), int(starts[first]), values=values[first:end], span=1, step=1
            )
        bw.close()


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


def write_bedgraph(track: pd.DataFrame, path, *, name: str = "attribution") -> None:
    """Write a per-base track (``chrom, start, value``) as bedGraph text, atomically."""
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
