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
    params:
        options=options("seqlets"),
        null=lambda wildcards, input: flag("null-attributions", list(input.null)),
    shell:
        "seqsal seqlets --threads {threads:q} --attributions {input.attributions:q} --regions {input.regions:q} "
        "{params.options:q} {params.null:q} --out {output:q} --log {log:q}"
