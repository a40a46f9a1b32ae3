"""``seqsal <stage> ...``: one subcommand per stage; each parses, loads, calls, saves.

Errors in the user's input end the command with one line on stderr (file, line or key,
expected, found) and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .io import InputError

log = logging.getLogger("seqsal")


def _simulate(args):
    from .io import load_motif_database, write_fasta, write_tsv
    from .simulate import simulate_demo

    database = load_motif_database(args.database)
    by_name = {key.split(" ", 1)[1]: ppm for key, ppm in database.items()}
    missing = [m for m in args.motifs if m not in by_name]
    if missing:
        raise InputError(f"simulate.motifs: expected TF names in {args.database}, found {missing}")
    genome, regions, labels, truth = simulate_demo(
        {m: by_name[m] for m in args.motifs},
        n_regions=args.n_regions,
        n_contigs=args.n_contigs,
        contig_length=args.contig_length,
        width=args.width,
        seed=args.seed,
    )
    out = Path(args.out_dir)
    write_fasta(genome, out / "genome.fa")
    write_tsv(regions, out / "regions.bed", header=False)
    write_tsv(labels, out / "labels.tsv")
    write_tsv(truth.drop(columns="region"), out / "truth.bed", header=False)
    log.info("simulated %d regions with %d planted sites", len(regions), len(truth))


def _regions(args):
    from .io import write_fasta, write_tsv

    if args.mode == "genome" and not (args.bed and args.fasta):
        raise InputError(
            f"input.bed, input.fasta: expected both in genome mode, found "
            f"bed={args.bed!r}, fasta={args.fasta!r}"
        )
    if args.mode == "library" and not (args.table or args.fasta):
        raise InputError(
            "input.table, input.fasta: expected one of them in library mode, found neither"
        )
    if args.mode == "library":
        library, regions, rejected, labels = _library_regions(args)
        write_fasta(library, Path(args.out_dir) / "library.fa")
    else:
        regions, rejected, labels = _genome_regions(args)
    if regions.empty:
        first = rejected["reason"].iloc[0] if len(rejected) else "none"
        raise InputError(
            f"{args.bed or args.table or args.fasta}: expected usable regions, "
            f"found none ({len(rejected)} rejected; first reason: {first})"
        )
    out = Path(args.out_dir)
    write_tsv(regions, out / "regions.bed", header=False)
    write_tsv(rejected, out / "rejected.tsv")
    if labels is not None:
        write_tsv(labels.loc[regions["name"]].rename_axis("name").reset_index(), out / "labels.tsv")
    log.info("kept %d regions, rejected %d rows", len(regions), len(rejected))


def _label_table(path, args, exclude=()):
    """Numeric targets of a table plus its group/split columns (as text), by name."""
    from .io import read_labels, read_table

    helpers = [c for c in (args.group_by, args.split_column) if c]
    labels = read_labels(path, targets=args.targets, exclude=[*exclude, *helpers])
    table = read_table(path)
    missing = [c for c in helpers if c not in table.columns]
    if missing:
        raise InputError(
            f"{path}: expected the split column(s) {missing}, found columns {list(table.columns)}"
        )
    return labels.join(table[helpers]) if helpers else labels


def _genome_regions(args):
    from .io import contig_sizes, open_fasta, read_bed
    from .regions import prepare_regions, unique_names

    bed = read_bed(args.bed, label_columns=args.bed_targets or ())
    renamed = bed["name"] != unique_names(bed["name"])
    if renamed.any():
        log.warning(
            "%s: %d duplicate region names made unique (first: %r on line %d)",
            args.bed,
            renamed.sum(),
            bed["name"][renamed].iloc[0],
            bed["line"][renamed].iloc[0],
        )
        bed["name"] = unique_names(bed["name"])
    if args.bed_targets:
        labels = bed.set_index("name")[list(bed.columns[8:])]
    else:
        labels = _label_table(args.labels, args) if args.labels else None
    regions, rejected = prepare_regions(
        bed,
        contig_sizes(open_fasta(args.fasta)),
        width=args.width,
        policy=args.width_policy,
        flank=args.flank,
        out_of_bounds=args.out_of_bounds,
        labels=labels,
        source=args.bed,
        label_source=args.labels or args.bed,
    )
    return regions, rejected, labels


def _library_regions(args):
    from .io import read_library_table, read_sequences
    from .regions import add_shuffled_negatives, prepare_library

    if args.table:
        sequences = read_library_table(args.table, sequence_column=args.sequence_column)
        labels = _label_table(args.table, args, exclude=[args.sequence_column])
    else:
        sequences = read_sequences(args.fasta)
        labels = _label_table(args.labels, args) if args.labels else None
    if args.negatives:
        if labels is not None:
            raise InputError(
                "input.negatives: expected no labels (seqsal makes them: bound = 1 "
                "for each sequence, 0 for its shuffled copy), found labels"
            )
        sequences, labels = add_shuffled_negatives(sequences, seed=args.seed)
    source = args.table or args.fasta
    library, regions, rejected = prepare_library(
        sequences,
        width=args.width,
        policy=args.width_policy,
        flank=args.flank,
        out_of_bounds=args.out_of_bounds,
        labels=labels,
        source=source,
        label_source=args.labels or source,
    )
    return library, regions, rejected, labels


def _encode(args):
    from .io import (
        iter_onehot,
        npz_stream,
        open_fasta,
        read_labels,
        read_regions,
        read_table,
        window_width,
    )

    regions = read_regions(args.regions, shard=args.shard, n_shards=args.n_shards)
    arrays = {
        "names": regions["name"].to_numpy(str),
        "chroms": regions["chrom"].to_numpy(str),
    }
    if args.labels:
        helpers = [c for c in (args.group_by, args.split_column) if c]
        labels = read_labels(args.labels, targets=args.targets, exclude=helpers)
        arrays["y"] = labels.loc[regions["name"]].to_numpy(np.float32)
        arrays["targets"] = np.asarray(labels.columns, dtype=str)
        table = read_table(args.labels)
        for column, key in ((args.group_by, "groups"), (args.split_column, "split")):
            if column:
                arrays[key] = table.loc[regions["name"], column].to_numpy(str)
    width = window_width(regions)
    with npz_stream(args.out) as out:  # the one-hot streams to disk block by block
        with out.rows("X", (len(regions), 4, width), np.uint8) as append:
            for block in iter_onehot(open_fasta(args.fasta), regions):
                append(block)
        for key, array in arrays.items():
            out.add(key, array)
    log.info("encoded %d regions of %d bp", len(regions), width)


def _train(args):
    from .io import read_shards, save_figure, write_text
    from .models import load_checkpoint, predict, resolve_device, save_checkpoint
    from .plots import training_curves
    from .train import score_splits, split_regions

    data = read_shards(args.onehot, mmap_key="X")  # batches read from disk as needed
    device = resolve_device(args.device)
    split = split_regions(
        data["chroms"],
        groups=data.get("groups"),
        assigned=data.get("split"),
        test=_test_mask(args.test_names, data["names"]),
        test_chroms=args.test_chroms,
        seed=args.seed,
        test_fraction=args.test_fraction,
        valid_fraction=args.valid_fraction,
    )
    if args.checkpoint:
        model, meta = load_checkpoint(args.checkpoint, input_length=data["X"].shape[-1])
        history = None
    else:
        model, meta, history = _fit(args, data, split, device)
    y = data.get("y")
    scored = y is not None and y.shape[1] == len(meta["targets"])
    pred = predict(model, data["X"], device=device)  # once, for the scores and the plots
    metrics = (
        score_splits(y, pred, split, tasks=meta["tasks"], targets=meta["targets"]) if scored else {}
    )
    metrics.update(
        tasks=dict(zip(meta["targets"], meta["tasks"])),
        device=str(device),
        epochs=0 if history is None else len(history),
    )
    out = Path(args.out_dir)
    save_checkpoint(
        model,
        out / "model.pt",
        metrics=metrics,
        rc_average=args.rc_average or bool(meta.get("rc_average")),
        **{k: meta[k] for k in ("arch", "hparams", "targets", "tasks")},
    )
    write_text(json.dumps(metrics, indent=2) + "\n", out / "metrics.json")
    test = split == "test"
    y_test = y[test] if scored else np.zeros((0, len(meta["targets"])))
    figure = training_curves(
        history, y_test, pred[test], tasks=meta["tasks"], targets=meta["targets"]
    )
    save_figure(figure, out / "curves.png")
    log.info("test metrics: %s", metrics.get("test"))


def _test_mask(path, names):
    """Which regions a ``split.test_names`` file (one name a line, gzip ok) holds out."""
    if not path:
        return None
    listed = set(pd.read_csv(path, header=None, dtype=str)[0].str.strip())
    mask = np.isin(names, list(listed))
    if not mask.any():
        raise InputError(
            f"{path}: expected names of regions to hold out, found none of them "
            f"among the regions (first listed: {sorted(listed)[:2]})"
        )
    return mask


def _fit(args, data, split, device):
    """Train a new model on the shards' labels; return it, its metadata and its history."""
    from .train import infer_tasks, train_model

    if "y" not in data:
        raise InputError(
            "input.labels: expected labels to train on, found none; give labels or model.checkpoint"
        )
    targets = [str(t) for t in data["targets"]]
    constant = [t for t, column in zip(targets, data["y"].T) if np.ptp(column) == 0]
    if constant:
        raise InputError(f"input.labels: expected labels that vary, found constant {constant}")
    tasks = infer_tasks(data["y"])
    declared = dict(item.split("=", 1) for item in args.tasks or [])
    unknown = sorted(set(declared) - set(targets))
    if unknown:
        raise InputError(f"model.tasks: expected target names {targets}, found {unknown}")
    tasks = [declared.get(t, task) for t, task in zip(targets, tasks)]
    model, hparams, history = train_model(
        data["X"],
        data["y"],
        split,
        tasks=tasks,
        arch=args.arch,
        hparams=json.loads(args.hparams),
        max_epochs=args.max_epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        rc_augment=args.rc_augment,
        device=device,
        seed=args.seed,
        verbose=args.verbose,
    )
    meta = {"arch": args.arch, "hparams": hparams, "targets": targets, "tasks": tasks}
    return model, meta, history


def _add_attribution_options(p) -> None:
    """The options of one attribution run (``seqsal attribute``; ``seqsal evaluate``)."""
    p.add_argument("--method", default="grad_x_input")
    p.add_argument("--target", default="0", help="output index or target name")
    p.add_argument("--output", default="logit", choices=["logit", "probability"])
    p.add_argument("--rc-average", action="store_true")
    p.add_argument("--batch-size", type=int, default=None, help="default: sized from memory")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "auto"])
    p.add_argument("--storage", default="float32", choices=["float32", "float16"])
    p.add_argument("--baseline", default="zeros", choices=["zeros", "uniform", "shuffle"])
    p.add_argument("--steps", type=int, default=32)
    p.add_argument("--n-shuffles", type=int, default=20)
    p.add_argument("--tolerance", type=float, default=1e-3)
    p.add_argument("--ism-window", type=int, nargs=2, default=None, metavar=("START", "END"))
    p.add_argument("--grad-cam-layer", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")


def _attribution_options(args, meta) -> dict:
    """:func:`seqsal.attribute.iter_attributions` keywords from those options."""
    from .models import resolve_device, resolve_target

    return {
        "method": args.method,
        "target": resolve_target(args.target, meta["targets"]),
        "output": args.output,
        "rc_average": args.rc_average,
        "batch_size": args.batch_size,
        "precision": args.precision,
        "baseline": args.baseline,
        "steps": args.steps,
        "n_shuffles": args.n_shuffles,
        "window": args.ism_window,
        "layer": args.grad_cam_layer,
        "tolerance": args.tolerance,
        "seed": args.seed,
        "device": resolve_device(args.device),
    }


def _attribute(args):
    from .attribute import (
        ConvergenceError,
        ShuffledRows,
        iter_attributions,
        null_sample,
        region_keys,
    )
    from .io import npz_rows, npz_writer, read_npz
    from .models import load_checkpoint

    data = read_npz(args.onehot, skip="X")
    X = npz_rows(args.onehot, "X")  # read batch by batch
    model, meta = load_checkpoint(args.model, input_length=X.shape[-1])
    options = _attribution_options(args, meta)
    names, keys = data["names"], region_keys(data["names"])  # shuffles seeded by name
    shuffled = args.shuffled is not None
    if shuffled:  # the seqlet null: one shuffle of each of some regions, no hyp
        rows = null_sample(keys, args.shuffled, seed=args.seed)
        X, names, keys = ShuffledRows(X, rows, keys[rows], seed=args.seed), names[rows], keys[rows]
    N, _, L = X.shape
    storage = np.dtype(args.storage)
    with npz_writer(args.out) as add:
        hyp = None if shuffled else add("hyp", (N, 4, L), storage)
        attr = add("attr", (N, L), storage)
        pred = add("pred", (N, len(meta["targets"])), np.float32)
        add("names", array=names)
        try:
            for rows, h, a, p in iter_attributions(
                model, X, **options, keys=keys, verbose=args.verbose, log=log
            ):
                attr[rows], pred[rows] = a, p
                if hyp is not None:
                    hyp[rows] = h
        except ConvergenceError as error:
            bad = ", ".join(str(names[i]) for i in error.rows[:5])
            raise InputError(f"{args.onehot}: {error} (regions: {bad})") from None
    log.info(
        "attributed %d %sregions with %s (target %d)",
        N,
        "dinucleotide-shuffled " if shuffled else "",
        args.method,
        options["target"],
    )


def _load_attributions(paths, regions, *, skip=(), mmap_key=None):
    """Concatenate attribution shards (but the arrays in ``skip``; ``mmap_key`` is left on
    disk, see :func:`seqsal.io.read_shards`) and put ``regions`` in the same order."""
    from .io import read_shards

    data = read_shards(paths, skip=skip, mmap_key=mmap_key)
    for key in ("hyp", "attr"):  # float16 storage is widened once, here
        if key in data and key != mmap_key and data[key].dtype == np.float16:
            data[key] = data[key].astype(np.float32)
    index = pd.Index(regions["name"]).get_indexer(data["names"])
    if (index < 0).any():
        raise InputError(
            f"{paths[0]}: expected region names of the regions file, found "
            f"{data['names'][index < 0][0]!r}"
        )
    return data, regions.iloc[index].reset_index(drop=True)


def _seqlets(args):
    from .io import read_regions, read_shards, write_tsv
    from .seqlets import call_seqlets, seqlets_to_bed

    # memory-mapped, read a block of rows at a time
    data, regions = _load_attributions(
        args.attributions, read_regions(args.regions), skip=("hyp",), mmap_key="attr"
    )
    null_attr = None
    if args.null_attributions:
        null_attr = read_shards(args.null_attributions, skip=("pred",), mmap_key="attr")["attr"]
        log.info("null: attributions of %d shuffled regions", len(null_attr))
        if not len(null_attr):
            raise InputError(
                f"{args.null_attributions[0]}: expected attributions of shuffled regions for "
                "the seqlet null, found none (raise seqlets.null_regions)"
            )
    seqlets = call_seqlets(
        data["attr"],
        null_attr=null_attr,
        window=args.window,
        null_size=args.null_size,
        alpha=args.alpha,
        seed=args.seed,
    )
    write_tsv(seqlets_to_bed(seqlets, regions, window=args.window), args.out, header=False)
    log.info("called %d seqlets in %d regions", len(seqlets), len(regions))


def _read_seqlets(path) -> pd.DataFrame:
    from .seqlets import SEQLET_COLUMNS

    return pd.read_csv(
        path,
        sep="\t",
        header=None,
        names=SEQLET_COLUMNS,
        dtype={"chrom": str, "name": str, "region": str},
    )


def _motifs(args):
    from .io import (
        load_motif_database,
        read_regions,
        read_shards,
        save_figure,
        write_meme,
        write_tsv,
    )
    from .motifs import discover_motifs
    from .plots import motif_logos

    # memory-mapped: only the rows holding seqlets are read
    data, regions = _load_attributions(
        args.attributions, read_regions(args.regions), skip=("attr",), mmap_key="hyp"
    )
    seqlets = _read_seqlets(args.seqlets)
    database = load_motif_database(args.database)
    motifs, table, assignments = discover_motifs(
        read_shards(args.onehot, mmap_key="X")["X"],
        data["hyp"],
        seqlets,
        regions,
        database,
        flank=args.flank,
        max_shift=args.max_shift,
        min_similarity=args.min_similarity,
        min_seqlets=args.min_seqlets,
        max_q=args.max_q,
    )
    out = Path(args.out_dir)
    (out / "logos").mkdir(parents=True, exist_ok=True)
    keys = [f"{i} {n}" for i, n in zip(table["motif_id"], table["name"])]
    write_meme(
        {k: m["ppm"] for k, m in zip(keys, motifs)},
        out / "motifs.meme",
        nsites={k: m["n_seqlets"] for k, m in zip(keys, motifs)},
    )
    write_tsv(table, out / "motifs.tsv")
    write_tsv(assignments, out / "seqlet_motifs.tsv")
    for key, motif in zip(keys, motifs):
        title = f"{key.replace(' ', ' (', 1)}, {motif['n_seqlets']} seqlets)"
        match = motif["match"]
        if match is not None:
            label = f"{match['target']}, q = {match['q_value']:.2g}"
            match = {**match, "label": label, "ppm": database[match["target"]]}
        save_figure(
            motif_logos(motif["ppm"], motif["cwm"], title=title, match=match),
            out / "logos" / f"{key.split()[0]}.png",
        )
    log.info("%d motifs from %d seqlets: %s", len(motifs), len(seqlets), table["name"].tolist())


def _tracks(args):
    from .bigwig import write_bigwig
    from .export import (
        bed_text,
        bedgraph_text,
        igv_page,
        igv_session,
        write_bed,
        write_bedgraph,
        write_tabix,
    )
    from .io import (
        contig_sizes,
        fetch_sequences,
        npz_rows,
        open_fasta,
        read_meme,
        read_npz,
        read_regions,
        write_text,
    )
    from .tracks import (
        ATTRIBUTION_COLORS,
        attribution_track,
        bed_in,
        hypothetical_tracks,
        motif_hit_track,
        page_loci,
        region_owners,
        scan_motifs,
        seqlet_track,
        track_in,
    )

    # attributions memory-mapped: each bigWig reads them as it writes
    data, regions = _load_attributions(
        args.attributions,
        read_regions(args.regions),
        skip=() if args.hypothetical else ("hyp",),
        mmap_key="attr",
    )
    fasta = open_fasta(args.fasta)
    sizes = contig_sizes(fasta)
    out = Path(args.out_dir)
    bigwigs = {"attribution": data["attr"]}
    for method, paths in _by_method(args.method_attributions).items():
        bigwigs[f"attribution_{method}"] = _other_maps(paths, regions, data, args.attributions)
    runs = region_owners(regions, contigs=list(sizes))  # shared by every track
    tracks = {}
    for name, attr in bigwigs.items():
        track = tracks[name] = attribution_track(regions, attr, contigs=list(sizes), runs=runs)
        write_bigwig(track, sizes, out / f"{name}.bw")
        if args.bedgraph and name == "attribution":
            write_bedgraph(track, out / "attribution.bedGraph")
    if args.hypothetical:
        by_base = hypothetical_tracks(regions, data["hyp"], contigs=list(sizes), runs=runs)
        for base, track in by_base.items():
            write_bigwig(track, sizes, out / f"hypothetical_{base}.bw")
    table = pd.read_csv(args.motifs_tsv, sep="\t", dtype=str)
    names = dict(zip(table["motif_id"], table["name"]))
    ppms = {k.split()[0]: v for k, v in read_meme(args.motifs_meme).items()} if len(table) else {}
    encoded = np.concatenate([read_npz(path, skip="X")["names"] for path in args.onehot])
    if not np.array_equal(encoded, data["names"]):
        raise InputError(f"{args.onehot[0]}: expected the regions of {args.attributions[0]}")
    hits, done = [], 0
    for path in args.onehot:  # shard by shard, block by block: memory follows the block
        X = npz_rows(path, "X")
        for start in range(0, len(X), 20_000):
            found = scan_motifs(ppms, X[start : start + 20_000], threshold=args.motif_hit_p)
            hits.append(found.assign(region_index=found["region_index"] + done + start))
        done += len(X)
    motif_hits = motif_hit_track(pd.concat(hits, ignore_index=True), regions, names)
    write_bed(
        motif_hits,
        out / "motif_hits.bed",
        track_line='track name="motif hits" description="seqsal motif instances" itemRgb="On"',
    )
    seqlets = _read_seqlets(args.seqlets)
    bed = seqlet_track(
        seqlets,
        pd.read_csv(args.seqlet_motifs, sep="\t"),
        names,
    )
    write_bed(
        bed,
        out / "seqlets.bed",
        track_line='track name="seqlets" description="seqsal seqlets by motif" itemRgb="On"',
    )
    write_tabix(out / "seqlets.bed")
    first = bed.iloc[0] if len(bed) else regions.iloc[0]
    locus = f"{first['chrom']}:{max(1, first['start'] - 100)}-{first['end'] + 100}"
    write_text(
        igv_session(
            genome=args.fasta,
            locus=locus,
            folder=out,
            tracks=[
                {
                    "path": out / f"{name}.bw",
                    "name": name,
                    **ATTRIBUTION_COLORS,
                    "renderer": "BAR_CHART",
                }
                for name in bigwigs
            ]
            + [
                {"path": out / "seqlets.bed", "name": "seqlets"},
                {"path": out / "motif_hits.bed", "name": "motif hits"},
            ],
        ),
        out / "igv_session.xml",
    )
    loci = page_loci(seqlets, regions, args.igv_loci)
    write_text(
        igv_page(
            loci=loci,
            sequences=fetch_sequences(fasta, loci),
            sizes=sizes,
            tracks=[
                {
                    "name": name,
                    "format": "bedgraph",
                    "text": bedgraph_text(track_in(track, loci)),
                    **ATTRIBUTION_COLORS,
                }
                for name, track in tracks.items()
            ]
            + [
                {"name": "seqlets", "format": "bed", "text": bed_text(bed_in(bed, loci))},
                {
                    "name": "motif hits",
                    "format": "bed",
                    "text": bed_text(bed_in(motif_hits, loci)),
                },
            ],
        ),
        out / "igv.html",
    )


def _other_maps(paths, regions, data, first):
    """Another method's maps (memory-mapped) of the regions of ``data``, in their order."""
    other, _ = _load_attributions(paths, regions, skip=("hyp",), mmap_key="attr")
    if not np.array_equal(other["names"], data["names"]):
        raise InputError(f"{paths[0]}: expected the regions of {first[0]}, in the same order")
    return other["attr"]


def _by_method(paths):
    """Attribution shards ``.../attribute/<method>/<shard>.npz`` grouped by method."""
    groups = {}
    for path in paths or []:
        groups.setdefault(Path(path).parent.name, []).append(path)
    return groups


def _binary_labels(encoded: dict, target: str):
    """The encoded regions' labels of ``target`` (None where the shards hold none)."""
    columns = [str(t) for t in encoded.get("targets", [])]
    if "y" not in encoded or target not in columns:
        return None
    return encoded["y"][:, columns.index(target)]


def _evaluate(args):
    from . import evaluate as ev
    from .io import read_bed, read_regions, read_shards, save_figure, write_text, write_tsv
    from .models import load_checkpoint, strand_averaged
    from .plots import faithfulness_curves, receptive_field
    from .seqlets import bed_to_offsets

    regions = read_regions(args.regions)
    # maps stay on disk: the tests read the tested rows, the audits a block at a time
    data, regions = _load_attributions(args.attributions, regions, skip=("hyp",), mmap_key="attr")
    encoded = read_shards(args.onehot, mmap_key="X")  # only the regions tested are read
    X = encoded["X"]
    model, meta = load_checkpoint(args.model, input_length=X.shape[-1])
    # the user's other inputs, checked before the long work
    intervals = [ev.parse_interval(text, X.shape[-1]) for text in args.nuisance]
    others = {path: load_checkpoint(path, input_length=X.shape[-1])[0] for path in args.seed_models}
    options = _attribution_options(args, meta)
    target, device = options["target"], options["device"]
    attrs = {args.method: data["attr"]}
    for method, *paths in args.also or []:
        attrs[method] = _other_maps(paths, regions, data, args.attributions)
    if len(X) != len(data["attr"]):
        raise InputError(f"{args.onehot[0]}: expected one encoded region per attribution")
    explained = strand_averaged(model) if args.rc_average else model
    pred = data["pred"][:, target].astype(np.float32)  # the attribution run's outputs
    binary = meta["tasks"][target] == "binary"
    labels = _binary_labels(encoded, meta["targets"][target]) if binary else None
    rows = ev.select_regions(pred, labels, max_regions=args.max_regions)
    if not len(rows):
        raise InputError(f"{args.onehot[0]}: expected positive regions to test, found none")
    per_region, curves = ev.faithfulness(
        explained,
        X,
        attrs,
        rows,
        target=target,
        n_steps=args.n_steps,
        n_random=args.n_random,
        background=args.background,
        seed=args.seed,
        device=device,
    )
    per_region.insert(0, "region", regions["name"].to_numpy()[per_region["region_index"]])
    summary = {
        "tested": "positive regions, highest outputs first"
        if labels is not None
        else "regions with the highest outputs",
        "background": args.background,
        "faithfulness": ev.summarize_faithfulness(per_region),
    }
    # stability of the first method's map: other strand, small substitutions, other seeds
    attr = data["attr"]
    stability = [
        ev.strand_stability(model, X, attr, rows, top_k=args.top_k, **options),
        ev.perturbation_stability(
            model,
            X,
            attr,
            rows,
            n_substitutions=args.n_substitutions,
            top_k=args.top_k,
            **options,
        ),
    ]
    by_seed = ev.seed_stability(others, X, attr, rows, top_k=args.top_k, **options)
    stability = pd.concat(stability, axis=1)
    stability.insert(0, "region", regions["name"].to_numpy()[rows])
    summary["stability"] = {
        **ev.summarize_stability(stability.drop(columns="region"), args.top_k),
        "n_substitutions": args.n_substitutions,
    }
    if len(by_seed):
        summary["stability"]["seeds"] = {
            name: ev.summarize_stability(table, args.top_k)
            for name, table in by_seed.groupby("model")
        }
    # saturation: binary targets only (a probability to saturate)
    first = per_region[per_region["method"] == args.method].set_index("region_index")
    if binary:
        saturated = ev.saturation(
            model,
            X,
            rows,
            background_output=first.loc[rows, "background_output"].to_numpy(),
            **options,
        )
        stability = pd.concat([stability, saturated], axis=1)
        summary["saturation"] = {
            "n_regions": len(saturated),
            "n_saturated": int(saturated["saturated"].sum()),
            "regions": stability.loc[saturated["saturated"].to_numpy(), "region"].tolist()[:20],
        }
    else:
        summary["saturation"] = {"skipped": "regression target: no probability to saturate"}
    # effective receptive field of the model's convolutions
    fields = ev.receptive_fields(model, X.shape[-1])
    summary["receptive_field"] = {
        "layers": fields.to_dict(orient="records"),
        **({"fits": ev.growth_law(fields["depth"], fields["sigma"])} if len(fields) >= 3 else {}),
    }
    # shortcuts: attribution in nuisance intervals, seqlet k-mers from artefact sequences
    seqlets = _read_seqlets(args.seqlets)
    kmers = None
    if args.artefacts and len(seqlets):
        top = seqlets.reindex(seqlets["attr_sum"].abs().sort_values(ascending=False).index)
        top = top.head(1000)
        index, offset = bed_to_offsets(top, regions)
        kmers = ev.seqlet_kmers(X, index, offset, (top["end"] - top["start"]).to_numpy())
    summary["shortcuts"] = {
        **ev.shortcut_audit(attr, intervals, kmers=kmers, artefacts=args.artefacts),
        "artefacts_given": bool(args.artefacts),
    }
    if args.truth:
        truth = read_bed(args.truth)
        summary["truth"] = {
            **{m: ev.truth_recovery(a[:], regions, truth) for m, a in attrs.items()},
            **ev.seqlet_recovery(seqlets, truth),
        }
    out = Path(args.out_dir)
    write_tsv(per_region.drop(columns="region_index"), out / "faithfulness.tsv")
    write_tsv(stability, out / "stability.tsv")
    write_text(json.dumps(summary, indent=2, default=float) + "\n", out / "summary.json")
    save_figure(faithfulness_curves(curves), out / "faithfulness_curves.png")
    save_figure(receptive_field(fields), out / "receptive_field.png")
    log.info("evaluation: %s", summary["faithfulness"])


def _report(args):
    from . import report
    from .io import read_regions, read_shards, write_text

    table = pd.read_csv(args.motifs_tsv, sep="\t", dtype=str, keep_default_na=False)
    assignments = pd.read_csv(args.seqlet_motifs, sep="\t")
    seqlets = _read_seqlets(args.seqlets)
    # only the example regions' rows are read: the report's memory does not grow with N
    data, regions = _load_attributions(
        args.attributions, read_regions(args.regions), skip=("attr",), mmap_key="hyp"
    )
    X = read_shards(args.onehot, mmap_key="X")["X"]

    def contrib(i):
        return data["hyp"][i].astype(np.float32) * X[i]

    logos = {m: report.file_base64(Path(args.logos) / f"{m}.png") for m in table["motif_id"]}
    names, rows = report.metric_rows(json.loads(Path(args.metrics).read_text()))
    html = report.render_report(
        version=__version__,
        n_regions=len(regions),
        method=args.method,
        database=args.database,
        metric_names=names,
        metric_rows=rows,
        curves=report.file_base64(args.curves),
        motifs=report.motif_rows(table, logos),
        n_seqlets=len(seqlets),
        alpha=args.alpha,
        null_model=args.null_model,
        examples=report.example_regions(table, assignments, seqlets, regions, contrib),
        n_assigned=int((assignments["motif_id"] != "none").sum()),
        summary=json.loads(Path(args.summary).read_text()),
        faithfulness_plot=report.file_base64(args.faithfulness_plot),
        field_plot=report.file_base64(args.receptive_field_plot),
        genome=args.fasta,
    )
    write_text(html, args.out)


def _add(sub, name, func, help_text):
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(func=func)
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress bars")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``seqsal`` argument parser, one subcommand per stage."""
    parser = argparse.ArgumentParser(
        prog="seqsal",
        description="seqsal: per-base attributions of DNA sequence models, "
        "from regions to motifs and IGV tracks.",
    )
    parser.add_argument("--version", action="version", version=f"seqsal {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = _add(sub, "simulate", _simulate, "simulate the demo genome, regions, labels and truth")
    p.add_argument("--motifs", nargs="+", default=["GATA1", "TAL1::TCF3"])
    p.add_argument("--database", default="jaspar2024_vertebrates")
    p.add_argument("--n-regions", type=int, default=4000)
    p.add_argument("--n-contigs", type=int, default=8)
    p.add_argument("--contig-length", type=int, default=250_000)
    p.add_argument("--width", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", required=True)

    p = _add(sub, "regions", _regions, "validate and resize regions; report rejected rows")
    p.add_argument("--mode", choices=["genome", "library"], default="genome")
    p.add_argument("--bed", help="genome mode: BED3/BED6/narrowPeak regions")
    p.add_argument("--fasta", help="genome mode: the reference; library mode: the sequences")
    p.add_argument("--table", help="library mode: TSV with name, sequence and label columns")
    p.add_argument("--sequence-column", default="sequence")
    p.add_argument("--labels")
    p.add_argument("--bed-targets", nargs="+", type=int, help="1-based BED columns as labels")
    p.add_argument("--targets", nargs="+")
    p.add_argument("--group-by")
    p.add_argument("--split-column")
    p.add_argument("--width", type=int, default=200)
    p.add_argument("--width-policy", choices=["center", "pad"], default="center")
    p.add_argument("--flank", type=int, default=0)
    p.add_argument("--out-of-bounds", choices=["reject", "pad"], default="reject")
    p.add_argument(
        "--negatives",
        choices=["dinucleotide_shuffle"],
        help="library mode: add a shuffled copy of each sequence as a negative",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", required=True)

    p = _add(sub, "encode", _encode, "one-hot encode one shard of the regions")
    p.add_argument("--regions", required=True)
    p.add_argument("--fasta", required=True)
    p.add_argument("--labels")
    p.add_argument("--targets", nargs="+")
    p.add_argument("--group-by")
    p.add_argument("--split-column")
    p.add_argument("--shard", type=int, default=0)
    p.add_argument("--n-shards", type=int, default=1)
    p.add_argument("--out", required=True)

    p = _add(sub, "train", _train, "train the CNN (or load a checkpoint) and score it")
    p.add_argument("--onehot", nargs="+", required=True)
    p.add_argument("--checkpoint")
    p.add_argument("--arch", default="cnn")
    p.add_argument("--hparams", default="{}", help="JSON: the architecture's hyperparameters")
    p.add_argument("--tasks", nargs="+", help="target=binary|regression, per target")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--rc-augment", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--rc-average", action="store_true")
    p.add_argument("--test-names", help="file of region names held out for testing")
    p.add_argument("--test-chroms", nargs="+")
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.add_argument("--valid-fraction", type=float, default=0.1)
    p.add_argument("--max-epochs", type=int, default=50)
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", required=True)

    p = _add(sub, "attribute", _attribute, "per-base attributions of one shard")
    p.add_argument("--model", required=True)
    p.add_argument("--onehot", required=True)
    _add_attribution_options(p)
    p.add_argument("--out", required=True)
    p.add_argument(
        "--shuffled",
        type=float,
        default=None,
        metavar="FRACTION",
        help="attribute one dinucleotide shuffle of each of this share of the regions "
        "(drawn by name), not the regions, and keep no hyp: the seqlet null",
    )

    p = _add(sub, "seqlets", _seqlets, "call seqlets (attribution peaks) with FDR control")
    p.add_argument("--attributions", nargs="+", required=True)
    p.add_argument("--regions", required=True)
    p.add_argument("--window", type=int, default=10)
    p.add_argument(
        "--null-attributions",
        nargs="+",
        default=[],
        help="attributions of shuffled regions (seqsal attribute --shuffled): the null; "
        "default: a block bootstrap of the attributions",
    )
    p.add_argument("--null-size", type=int, default=200_000, help="bootstrap null's size")
    p.add_argument("--alpha", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)

    p = _add(sub, "motifs", _motifs, "cluster seqlets into motifs and name them with TOMTOM")
    p.add_argument("--seqlets", required=True)
    p.add_argument("--attributions", nargs="+", required=True)
    p.add_argument("--onehot", nargs="+", required=True)
    p.add_argument("--regions", required=True)
    p.add_argument("--database", default="jaspar2024_vertebrates")
    p.add_argument("--max-q", type=float, default=0.05)
    p.add_argument("--min-seqlets", type=int, default=20)
    p.add_argument("--min-similarity", type=float, default=0.6)
    p.add_argument("--max-shift", type=int, default=5)
    p.add_argument("--flank", type=int, default=5)
    p.add_argument("--out-dir", required=True)

    p = _add(sub, "tracks", _tracks, "bigWig, BED9 and IGV session in genome coordinates")
    p.add_argument("--attributions", nargs="+", required=True)
    p.add_argument("--regions", required=True)
    p.add_argument("--seqlets", required=True)
    p.add_argument("--seqlet-motifs", required=True)
    p.add_argument("--motifs-tsv", required=True)
    p.add_argument("--fasta", required=True)
    p.add_argument(
        "--method-attributions",
        nargs="+",
        default=[],
        help="shards of further methods, .../<method>/<shard>.npz: one bigWig per method",
    )
    p.add_argument(
        "--hypothetical", action="store_true", help="also hypothetical_A/C/G/T.bw (+ strand)"
    )
    p.add_argument("--bedgraph", action="store_true", help="also attribution.bedGraph")
    p.add_argument("--motifs-meme", required=True, help="motifs.meme: scanned for motif_hits.bed")
    p.add_argument("--onehot", nargs="+", required=True, help="encode shards, for the scan")
    p.add_argument("--motif-hit-p", type=float, default=1e-4)
    p.add_argument(
        "--igv-loci", type=int, default=12, help="regions shown on igv.html (the igv.js page)"
    )
    p.add_argument("--out-dir", required=True)

    p = _add(
        sub,
        "evaluate",
        _evaluate,
        "faithfulness, stability, saturation, receptive field, shortcuts, known sites",
    )
    p.add_argument("--model", required=True)
    p.add_argument("--onehot", nargs="+", required=True)
    p.add_argument("--attributions", nargs="+", required=True)
    p.add_argument("--regions", required=True)
    p.add_argument("--seqlets", required=True)
    p.add_argument("--truth")
    _add_attribution_options(p)  # how the attributions were made: strand stability redoes it
    p.add_argument(
        "--also",
        nargs="+",
        action="append",
        metavar=("METHOD", "SHARD"),
        help="another method's attribution shards, scored for faithfulness too",
    )
    p.add_argument("--top-k", type=int, default=20, help="bases compared in the stability tests")
    p.add_argument("--n-steps", type=int, default=20)
    p.add_argument("--n-random", type=int, default=3, help="random orders per region")
    p.add_argument("--background", default="shuffle", choices=["shuffle", "zeros"])
    p.add_argument("--max-regions", type=int, default=256)
    p.add_argument("--n-substitutions", type=int, default=3)
    p.add_argument("--seed-models", nargs="*", default=[], help="models trained with other seeds")
    p.add_argument("--nuisance", nargs="*", default=[], metavar="NAME:START:END")
    p.add_argument("--artefacts", nargs="*", default=[], metavar="SEQUENCE")
    p.add_argument("--out-dir", required=True)

    p = _add(sub, "report", _report, "the self-contained HTML report")
    for name in (
        "metrics",
        "curves",
        "motifs-tsv",
        "seqlet-motifs",
        "logos",
        "seqlets",
        "regions",
        "summary",
        "faithfulness-plot",
        "receptive-field-plot",
        "fasta",
        "out",
    ):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--attributions", nargs="+", required=True)
    p.add_argument("--onehot", nargs="+", required=True)
    p.add_argument("--method", default="grad_x_input")
    p.add_argument("--database", default="jaspar2024_vertebrates")
    p.add_argument("--alpha", type=float, default=0.2)
    p.add_argument("--null-model", default="shuffle", choices=["shuffle", "bootstrap"])
    return parser


def main(argv=None) -> int:
    """Run ``seqsal`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s seqsal %(levelname)s %(message)s"
    )
    try:
        args.func(args)
    except InputError as error:
        print(f"seqsal {args.command}: error: {error}", file=sys.stderr)
        return 1
    except FileNotFoundError as error:
        print(
            f"seqsal {args.command}: error: {error.filename}: expected a file, found none",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
