rule motifs:
    input:
        seqlets="results/seqlets/seqlets.bed",
        attributions=shard_files("attribute"),
        onehot=shard_files("encode"),
        regions="results/regions/regions.bed",
    output:
        meme="results/motifs/motifs.meme",
        table="results/motifs/motifs.tsv",
        assignments="results/motifs/seqlet_motifs.tsv",
        modisco="results/motifs/modisco.h5",
        logos=report(
            directory("results/motifs/logos"),
            patterns=["{motif}.png"],
            caption="../report/logos.rst",
            category="Motifs",
        ),
    log:
        "logs/motifs/motifs.log",
    benchmark:
        "results/benchmarks/motifs/motifs.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input: 4000 + 3 * input.size_mb,
    params:
        options=options("motifs"),
    shell:
        "seqsal motifs --threads {threads:q} --seqlets {input.seqlets:q} --attributions {input.attributions:q} "
        "--onehot {input.onehot:q} --regions {input.regions:q} {params.options:q} "
        "--out-dir results/motifs --log {log:q}"
