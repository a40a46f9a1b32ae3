# One rule, one job per run and shard. {run} is the run's folder under results/attribute/
# with its trailing slash: "" for the first method on the first target (the shards that
# seqlets, motifs and the report read), "null/" for the seqlet null (the first method on
# one dinucleotide shuffle of each of about seqlets.null_regions regions, drawn by name,
# so the same in any sharding), "<method>/" for each further method and
# "<method>@<target>/" for every method on each further target.
rule attribute:
    input:
        model="results/train/model.pt",
        onehot="results/encode/{shard}.npz",
        regions="results/regions/regions.bed",
    output:
        "results/attribute/{run}{shard}.npz",
    log:
        "logs/attribute/{run}{shard}.log",
    benchmark:
        "results/benchmarks/attribute/{run}{shard}.tsv"
    wildcard_constraints:
        run="|".join(re.escape(run) for run in run_folders()),
        shard=r"\d+",
    conda:
        "../../envs/seqsal.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        gpu=gpus(),
    params:
        options=lambda wildcards: attribute_run(wildcards.run),
        null=lambda wildcards, input: flag(
            "shuffled",
            null_fraction(input.regions) if wildcards.run == "null/" else None,
        ),
    shell:
        "seqsal attribute --threads {threads:q} --model {input.model:q} --onehot {input.onehot:q} {params.options:q} "
        "{params.null:q} --out {output:q} --log {log:q}"
