rule seqlets:
    input:
        attributions=shard_files("attribute"),
        null=null_shards,
        regions="results/regions/regions.bed",
    output:
        "results/seqlets/seqlets.bed",
    log:
        "logs/seqlets/seqlets.log",
    benchmark:
        "results/benchmarks/seqlets/seqlets.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 1
    resources:
        # ~16 bytes per candidate window (about 1.6 per base) and a bounded null
        mem_mb=lambda wildcards, input: 2000 + input.size_mb // 2,
        runtime=120,
    params:
        window=config["seqlets"]["window"],
        alpha=config["seqlets"]["alpha"],
        null_size=config["seqlets"]["null_size"],
        seed=config["seed"],
        null=lambda wildcards, input: flag("null-attributions", list(input.null)),
    shell:
        "seqsal seqlets --attributions {input.attributions} --regions {input.regions} "
        "--window {params.window} --alpha {params.alpha} --null-size {params.null_size} "
        "--seed {params.seed} {params.null} --out {output} 2> {log}"
