rule simulate:
    output:
        fasta=f"{DEMO}/genome.fa",
        regions=f"{DEMO}/regions.bed",
        labels=f"{DEMO}/labels.tsv",
        truth=f"{DEMO}/truth.bed",
    log:
        "logs/simulate/simulate.log",
    benchmark:
        "results/benchmarks/simulate/simulate.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        motifs=flag("motifs", config["simulate"]["motifs"]),
        n_regions=config["simulate"]["n_regions"],
        n_contigs=config["simulate"]["n_contigs"],
        contig_length=config["simulate"]["contig_length"],
        width=config["input"]["width"],
        database=config["motifs"]["database"],
        seed=config["seed"],
        out_dir=lambda wildcards, output: os.path.dirname(output.fasta),
    shell:
        "seqsal simulate {params.motifs} --database {params.database:q} "
        "--n-regions {params.n_regions} --n-contigs {params.n_contigs} "
        "--contig-length {params.contig_length} --width {params.width} "
        "--seed {params.seed} --out-dir {params.out_dir} 2> {log}"
