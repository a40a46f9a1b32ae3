rule encode:
    input:
        unpack(labels_input),
        regions="results/regions/regions.bed",
        fasta=fasta_path(),
    output:
        "results/encode/{shard}.npz",
    log:
        "logs/encode/{shard}.log",
    benchmark:
        "results/benchmarks/encode/{shard}.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 1
    resources:
        mem_mb=2000,  # blocks stream to disk: a contig (and a block) in memory, whatever the shard
    params:
        labels=lambda wildcards, input: flag("labels", input.get("labels")),
        options=options("encode"),
        n_shards=lambda wildcards: len(shard_ids()),
    shell:
        "seqsal encode --threads {threads:q} --regions {input.regions:q} --fasta {input.fasta:q} {params.labels:q} "
        "{params.options:q} --shard {wildcards.shard:q} --n-shards {params.n_shards:q} "
        "--out {output:q} --log {log:q}"
