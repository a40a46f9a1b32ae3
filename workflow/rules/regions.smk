# a checkpoint: the number of shards follows from the regions it writes
checkpoint regions:
    input:
        **source_inputs(),
    output:
        **regions_outputs(),
    log:
        "logs/regions/regions.log",
    benchmark:
        "results/benchmarks/regions/regions.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: 2000 + 4 * input.size_mb,
        runtime=60,
    params:
        mode="genome" if MODE == "simulate" else MODE,
        files=lambda wildcards, input: " ".join(
            flag(key, input[key])
            for key in ("bed", "fasta", "table", "labels")
            if key in input.keys()
        ),
        bed_targets=flag("bed-targets", config["input"]["bed_targets"]),
        sequence_column=config["input"]["sequence_column"],
        targets=flag("targets", config["input"]["targets"]),
        group_by=flag("group-by", config["split"]["group_by"]),
        split_column=flag("split-column", config["split"]["column"]),
        width=config["input"]["width"],
        width_policy=config["input"]["width_policy"],
        flank=config["input"]["flank"],
        negatives=flag("negatives", config["input"]["negatives"]),
        out_of_bounds=config["input"]["out_of_bounds"],
        seed=config["seed"],
        out_dir=lambda wildcards, output: os.path.dirname(output.regions),
    shell:
        "seqsal regions --mode {params.mode} {params.files} {params.bed_targets} "
        "--sequence-column {params.sequence_column:q} {params.targets} {params.group_by} "
        "{params.split_column} --width {params.width} --width-policy {params.width_policy} "
        "--flank {params.flank} {params.negatives} --seed {params.seed} "
        "--out-of-bounds {params.out_of_bounds} "
        "--out-dir {params.out_dir} 2> {log}"
