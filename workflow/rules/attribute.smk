# The first method writes results/attribute/{shard}.npz, which seqlets, motifs and the
# report read; every further method writes results/attribute/{method}/{shard}.npz.
rule attribute:
    input:
        model="results/train/model.pt",
        onehot="results/encode/{shard}.npz",
    output:
        "results/attribute/{shard}.npz",
    log:
        "logs/attribute/{shard}.log",
    benchmark:
        "results/benchmarks/attribute/{shard}.tsv"
    wildcard_constraints:
        shard=r"\d+",
    conda:
        "../../envs/seqsal.yaml"
    params:
        options=attribute_options(config["attribute"]["methods"][0]),
    shell:
        "seqsal attribute --model {input.model} --onehot {input.onehot} {params.options} "
        "--out {output} 2> {log}"


rule attribute_method:
    input:
        model="results/train/model.pt",
        onehot="results/encode/{shard}.npz",
    output:
        "results/attribute/{method}/{shard}.npz",
    log:
        "logs/attribute/{method}/{shard}.log",
    benchmark:
        "results/benchmarks/attribute/{method}/{shard}.tsv"
    wildcard_constraints:
        shard=r"\d+",
        method="|".join(config["attribute"]["methods"][1:]) or "none",
    conda:
        "../../envs/seqsal.yaml"
    params:
        options=lambda wildcards: attribute_options(wildcards.method),
    shell:
        "seqsal attribute --model {input.model} --onehot {input.onehot} {params.options} "
        "--out {output} 2> {log}"
