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
    params:
        files=lambda wildcards, input: [
            arg
            for key in SOURCE_KEYS
            if key in input.keys()
            for arg in flag(key.replace("_", "-"), input[key])
        ],
        # the files come from the inputs above (the demo's in simulate mode)
        options=options("regions", exclude=SOURCE_KEYS),
        out_dir=lambda wildcards, output: os.path.dirname(output.regions),
    shell:
        "seqsal regions --threads {threads:q} {params.files:q} {params.options:q} --out-dir {params.out_dir:q} --log {log:q}"
