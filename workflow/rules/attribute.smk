# The first method on the first target writes results/attribute/{shard}.npz, which
# seqlets, motifs and the report read; every further method writes
# results/attribute/{method}/{shard}.npz, and every method on each further target
# results/attribute/{method}@{target}/{shard}.npz.
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
    threads: 2
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=gpus(),
    params:
        options=attribute_options(
            config["attribute"]["methods"][0], attribute_targets()[0]
        ),
    shell:
        "seqsal attribute --model {input.model} --onehot {input.onehot} {params.options} "
        "--out {output} 2> {log}"


rule attribute_method:
    input:
        model="results/train/model.pt",
        onehot="results/encode/{shard}.npz",
    output:
        "results/attribute/{run}/{shard}.npz",
    log:
        "logs/attribute/{run}/{shard}.log",
    benchmark:
        "results/benchmarks/attribute/{run}/{shard}.tsv"
    wildcard_constraints:
        shard=r"\d+",
        run="|".join(re.escape(run) for run in further_runs()) or "none",
    conda:
        "../../envs/seqsal.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=480,
        gpu=gpus(),
    params:
        options=lambda wildcards: attribute_options(*further_runs()[wildcards.run]),
    shell:
        "seqsal attribute --model {input.model} --onehot {input.onehot} {params.options} "
        "--out {output} 2> {log}"


# The seqlet null: the first method on the first target, on one dinucleotide shuffle of
# each of about seqlets.null_regions regions (drawn by name, so in any sharding the same).
rule attribute_null:
    input:
        model="results/train/model.pt",
        onehot="results/encode/{shard}.npz",
        regions="results/regions/regions.bed",
    output:
        "results/attribute/null/{shard}.npz",
    log:
        "logs/attribute/null/{shard}.log",
    benchmark:
        "results/benchmarks/attribute/null/{shard}.tsv"
    wildcard_constraints:
        shard=r"\d+",
    conda:
        "../../envs/seqsal.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=gpus(),
    params:
        options=attribute_options(
            config["attribute"]["methods"][0], attribute_targets()[0]
        ),
        fraction=lambda wildcards, input: null_fraction(input.regions),
    shell:
        "seqsal attribute --model {input.model} --onehot {input.onehot} {params.options} "
        "--shuffled {params.fraction} --out {output} 2> {log}"
