"""A bigWig writer for per-base tracks, with zoom levels computed by numpy.

libBigWig (pyBigWig) builds zoom levels by reading every base back once per level, which
is most of the time of writing a genome-wide attribution track. Here the base values are
written once, in fixed-step sections of up to 1,024 bases, and each zoom level is computed
from the level below it with numpy reductions (14x faster than pyBigWig on 63 Mb).

The layout follows the UCSC bigWig format, version 4 (Kent et al. 2010): header, zoom
headers, total summary, chromosome B+ tree, data sections and their R-tree index, then
each zoom level's records and R-tree index, and the magic number again at the end.
Contigs get their ids in sorted (bytewise) name order, so that the B+ tree can be searched.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from .atomic import atomic_path

BIGWIG_MAGIC = 0x888FFC26
BPT_MAGIC = 0x78CA8C91
CIR_MAGIC = 0x2468ACE0
BLOCK = 1024  # bases per data section and zoom records per compressed block
NODE = 256  # items per index node
FIRST_REDUCTION = 40  # bases per record at the finest zoom level; each next level x4
MAX_ZOOMS = 10
SECTION = struct.Struct("<IIIIIBBH")  # chromId, start, end, step, span, type, reserved, count
RECORD = np.dtype(
    [
        ("chrom", "<u4"),
        ("start", "<u4"),
        ("end", "<u4"),
        ("valid", "<u4"),
        ("min", "<f4"),
        ("max", "<f4"),
        ("sum", "<f4"),
        ("sumsq", "<f4"),
    ]
)


def within_runs(lengths: np.ndarray) -> np.ndarray:
    """For runs of ``lengths`` laid end to end, each element's offset in its run.

    Parameters
    ----------
    lengths : numpy.ndarray of int, shape=(n,)

    Returns
    -------
    offsets : numpy.ndarray of int, shape=(lengths.sum(),)
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    return np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def write_bigwig(track, sizes: dict, path, *, compress: bool = False) -> None:
    """Write a :class:`~seqsal.tracks.Track` as bigWig, atomically.

    Parameters
    ----------
    track : seqsal.tracks.Track
        Runs of consecutive bases, sorted by contig then start, not overlapping.
    sizes : dict
        ``{contig: length}`` of the reference: the bigWig's chromosome list.
    path : str or Path
    compress : bool, optional
        zlib-compress the blocks. Attribution values are float32 noise to zlib (files
        shrink by about 4%, writing takes three times longer), so by default blocks are
        stored as they are, which every reader supports (``bedGraphToBigWig -unc``).
        Default is False.
    """
    names = sorted(sizes, key=lambda name: name.encode())
    ids = {name: i for i, name in enumerate(names)}
    chrom = np.array([ids[c] for c in track.chrom], dtype=np.int64)
    start = np.asarray(track.start, dtype=np.int64)
    order = np.lexsort((start, chrom))  # by contig id: the order the index searches
    sections = [
        (int(chrom[k]), int(start[k]) + i, track.values[k][i : i + BLOCK])
        for k in order.tolist()
        for i in range(0, len(track.values[k]), BLOCK)
    ]
    levels = _zoom_levels(sections, max(sizes.values(), default=0))
    pack = zlib.compress if compress else bytes

    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        out.write(bytes(64 + 24 * len(levels)))  # the header, written last
        summary_offset = out.tell()
        out.write(_total_summary(levels[0][1] if levels else None))
        chrom_tree_offset = out.tell()
        out.write(_chrom_tree(names, sizes, chrom_tree_offset))
        data_offset = out.tell()
        out.write(struct.pack("<Q", len(sections)))
        items = []
        for c, s, v in sections:
            block = pack(
                SECTION.pack(c, s, s + len(v), 1, 1, 3, 0, len(v)) + v.astype("<f4").tobytes()
            )
            items.append((c, s, c, s + len(v), out.tell(), len(block)))
            out.write(block)
        largest = SECTION.size + 4 * BLOCK
        index_offset = out.tell()
        out.write(_r_tree(items, index_offset, end_offset=index_offset))
        zoom_headers = []
        for reduction, records in levels:
            zoom_offset = out.tell()
            out.write(struct.pack("<I", len(records)))
            items = []
            for i in range(0, len(records), BLOCK):
                chunk = records[i : i + BLOCK]
                block = pack(chunk.tobytes())
                first, last = chunk[0], chunk[-1]
                bounds = (first["chrom"], first["start"], last["chrom"], last["end"])
                items.append((*map(int, bounds), out.tell(), len(block)))
                out.write(block)
            largest = max(largest, RECORD.itemsize * BLOCK)
            zoom_index = out.tell()
            out.write(_r_tree(items, zoom_index, end_offset=zoom_index))
            zoom_headers.append(struct.pack("<IIQQ", reduction, 0, zoom_offset, zoom_index))
        out.write(struct.pack("<I", BIGWIG_MAGIC))
        out.seek(0)
        out.write(
            struct.pack(
                "<IHHQQQHHQQIQ",
                BIGWIG_MAGIC,
                4,  # version
                len(levels),
                chrom_tree_offset,
                data_offset,
                index_offset,
                0,  # field count
                0,  # defined field count
                0,  # autoSql offset
                summary_offset,
                largest if compress else 0,  # uncompressBufSize: 0 = not compressed
                0,  # extension offset
            )
        )
        out.write(b"".join(zoom_headers))


def _total_summary(records) -> bytes:
    """Bases covered, min, max, sum and sum of squares of all values (from records)."""
    if records is None:
        return struct.pack("<Qdddd", 0, 0.0, 0.0, 0.0, 0.0)
    return struct.pack(
        "<Qdddd",
        int(records["valid"].sum()),
        float(records["min"].min()),
        float(records["max"].max()),
        float(records["sum"].sum(dtype=np.float64)),
        float(records["sumsq"].sum(dtype=np.float64)),
    )


def _zoom_levels(sections: list, longest: int) -> list:
    """``[(reduction, records)]``: each level's summaries, one record per occupied bin of
    ``reduction`` bases, from :data:`FIRST_REDUCTION` up by 4 while it still merges.

    A record spans its bin's bases with data (first to last), with their count, minimum,
    maximum, sum and sum of squares. The finest level is made from the bases a few
    thousand sections at a time, so memory follows that batch, not the track.
    """
    if not sections:
        return []
    reduction = FIRST_REDUCTION
    pieces = [_bin_pieces(sections[i : i + 4096], reduction) for i in range(0, len(sections), 4096)]
    levels = [(reduction, _coarsen(np.concatenate(pieces), reduction))]
    while len(levels) < MAX_ZOOMS and reduction * 4 < longest:
        reduction *= 4
        records = _coarsen(levels[-1][1], reduction)
        if len(records) == len(levels[-1][1]):  # nothing merged: no coarser view to give
            break
        levels.append((reduction, records))
    return levels


def _bin_pieces(sections: list, reduction: int) -> np.ndarray:
    """Records of the pieces of ``sections`` cut at every multiple of ``reduction``."""
    lengths = np.array([len(v) for _, _, v in sections], dtype=np.int64)
    starts = np.array([s for _, s, _ in sections], dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    values = np.concatenate([v for _, _, v in sections]).astype(np.float32, copy=False)
    first = (-starts) % reduction  # offset of the first bin edge inside each section
    first = np.where(first == 0, reduction, first)
    count = np.where(first < lengths, (lengths - 1 - first) // reduction + 1, 0)
    edges = np.repeat(offsets + first, count) + reduction * within_runs(count)
    cuts = np.sort(np.r_[offsets, edges])
    section = np.searchsorted(offsets, cuts, side="right") - 1
    pieces = np.zeros(len(cuts), dtype=RECORD)
    pieces["chrom"] = np.array([c for c, _, _ in sections])[section]
    pieces["start"] = starts[section] + cuts - offsets[section]
    pieces["valid"] = np.diff(np.r_[cuts, len(values)])
    pieces["end"] = pieces["start"] + pieces["valid"]
    pieces["min"] = np.minimum.reduceat(values, cuts)
    pieces["max"] = np.maximum.reduceat(values, cuts)
    pieces["sum"] = np.add.reduceat(values, cuts, dtype=np.float64)
    pieces["sumsq"] = np.add.reduceat(np.square(values), cuts, dtype=np.float64)
    return pieces


def _coarsen(records: np.ndarray, reduction: int) -> np.ndarray:
    """Merge consecutive records that fall in one bin of ``reduction`` bases."""
    key = (records["chrom"].astype(np.int64) << 40) | (records["start"] // reduction)
    cuts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    merged = np.zeros(len(cuts), dtype=RECORD)
    merged["chrom"] = records["chrom"][cuts]
    merged["start"] = records["start"][cuts]
    merged["end"] = records["end"][np.r_[cuts[1:], len(records)] - 1]
    merged["valid"] = np.add.reduceat(records["valid"], cuts)
    merged["min"] = np.minimum.reduceat(records["min"], cuts)
    merged["max"] = np.maximum.reduceat(records["max"], cuts)
    merged["sum"] = np.add.reduceat(records["sum"], cuts, dtype=np.float64)
    merged["sumsq"] = np.add.reduceat(records["sumsq"], cuts, dtype=np.float64)
    return merged


def _layout(n_items: int, block: int, offset: int, leaf_node: int, branch_node: int):
    """Nodes per level of a tree over ``n_items`` (the root level first) and the file
    offset of each level's first node, the tree's header taking ``offset`` onwards."""
    counts = [max(1, -(-n_items // block))]
    while counts[-1] > 1:
        counts.append(-(-counts[-1] // block))
    counts = counts[::-1]
    starts = []
    for depth, count in enumerate(counts):
        starts.append(offset)
        offset += count * (leaf_node if depth == len(counts) - 1 else branch_node)
    return counts, starts


def _chrom_tree(names: list, sizes: dict, offset: int) -> bytes:
    """The chromosome B+ tree (sorted names -> id, size), to be written at file
    ``offset``: every node padded to its block size, the root first."""
    block = max(1, min(len(names), NODE))
    key_size = max([len(n.encode()) for n in names] + [1])
    keys = [n.encode().ljust(key_size, b"\0") for n in names]
    node = 4 + block * (key_size + 8)  # a key and 8 bytes: (id, size) or a child offset
    counts, starts = _layout(len(names), block, offset + 32, node, node)
    firsts = [keys[::block]]  # the first key under each node, from the leaves up
    for _ in counts[:-1]:
        firsts.append(firsts[-1][::block])
    firsts = firsts[::-1]
    chunks = [struct.pack("<IIIIQQ", BPT_MAGIC, block, key_size, 8, len(names), 0)]
    for depth, count in enumerate(counts):
        for k in range(count):
            if depth == len(counts) - 1:
                group = range(k * block, min((k + 1) * block, len(names)))
                body = b"".join(
                    keys[i] + struct.pack("<II", i, int(sizes[names[i]])) for i in group
                )
                kind = 1
            else:
                group = range(k * block, min((k + 1) * block, counts[depth + 1]))
                body = b"".join(
                    firsts[depth + 1][i] + struct.pack("<Q", starts[depth + 1] + i * node)
                    for i in group
                )
                kind = 0
            chunks.append(struct.pack("<BBH", kind, 0, len(group)) + body.ljust(node - 4, b"\0"))
    return b"".join(chunks)


def _r_tree(items: list, offset: int, *, end_offset: int) -> bytes:
    """The R-tree index of data blocks, to be written at file ``offset``: every node
    padded to :data:`NODE` items, the root first."""
    block = NODE
    leaf_node, branch_node = 4 + block * 32, 4 + block * 24
    sizes, starts = _layout(len(items), block, offset + 48, leaf_node, branch_node)
    # bounds of every node, from the leaves up
    bounds = [
        [
            (chunk[0][0], chunk[0][1], chunk[-1][2], chunk[-1][3])
            for chunk in (items[i : i + block] for i in range(0, len(items), block))
        ]
    ]
    for _ in sizes[:-1]:
        below = bounds[-1]
        bounds.append(
            [
                (group[0][0], group[0][1], group[-1][2], group[-1][3])
                for group in (below[i : i + block] for i in range(0, len(below), block))
            ]
        )
    bounds = bounds[::-1]
    first = items[0] if items else (0, 0, 0, 0)
    last = items[-1] if items else (0, 0, 0, 0)
    chunks = [
        struct.pack(
            "<IIQIIIIQII",
            CIR_MAGIC,
            block,
            len(items),
            first[0],
            first[1],
            last[2],
            last[3],
            end_offset,
            BLOCK,
            0,
        )
    ]
    for depth, count in enumerate(sizes):
        leaf = depth == len(sizes) - 1
        for node in range(count):
            if leaf:
                group = items[node * block : (node + 1) * block]
                body = b"".join(struct.pack("<IIIIQQ", *item) for item in group)
                chunks.append(struct.pack("<BBH", 1, 0, len(group)) + body.ljust(block * 32, b"\0"))
            else:
                children = range(node * block, min((node + 1) * block, sizes[depth + 1]))
                child_size = leaf_node if depth + 1 == len(sizes) - 1 else branch_node
                body = b"".join(
                    struct.pack("<IIIIQ", *bounds[depth + 1][k], starts[depth + 1] + k * child_size)
                    for k in children
                )
                chunks.append(
                    struct.pack("<BBH", 0, 0, len(children)) + body.ljust(block * 24, b"\0")
                )
    return b"".join(chunks)
