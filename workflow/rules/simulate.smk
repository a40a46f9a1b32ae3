rule simulate:
    output:
        fasta=f"{DEMO}/genome.fa",
        regions=f"{DEMO}/regions.bed",
        labels=f"{DEMO}/labels.tsv",
        truth=f"{DEMO}/truth.bed",
        variants=f"{DEMO}/variants.vcf",
    log:
        "logs/simulate/simulate.log",
    benchmark:
        "results/benchmarks/simulate/simulate.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        options=options("simulate"),
        out_dir=lambda wildcards, output: os.path.dirname(output.fasta),
    shell:
        "seqsal simulate --threads {threads:q} {params.options:q} --out-dir {params.out_dir:q} --log {log:q}"
