rule regions:
    input:
        unpack(labels_input),
        bed=bed_path(),
        fasta=fasta_path(),
    output:
        regions="results/regions/regions.bed",
        rejected="results/regions/rejected.tsv",
    log:
        "logs/regions/regions.log",
    benchmark:
        "results/benchmarks/regions/regions.tsv"
    conda:
        "../../envs/seqsal.yaml"
    params:
        labels=lambda wildcards, input: flag("labels", input.get("labels")),
        targets=flag("targets", config["input"]["targets"]),
        width=config["input"]["width"],
    shell:
        "seqsal regions --bed {input.bed:q} --fasta {input.fasta:q} {params.labels} "
        "{params.targets} --width {params.width} --out-dir results/regions 2> {log}"
