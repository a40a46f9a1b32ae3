rule variants:
    input:
        model="results/train/model.pt",
        variants=config["variants"]["file"] or [],
        regions="results/regions/regions.bed",
        fasta=fasta_path(),
        meme="results/motifs/motifs.meme",
    output:
        table="results/variants/variants.tsv",
        vcf="results/variants/variants.vcf.gz",
        tabix="results/variants/variants.vcf.gz.tbi",
        rejected="results/variants/rejected.tsv",
        maps="results/variants/maps.npz",
        track="results/tracks/variant_effects.bed",
    log:
        "logs/variants/variants.log",
    benchmark:
        "results/benchmarks/variants/variants.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        gpu=gpus(),
    params:
        method=config["attribute"]["methods"][0],
        targets=[str(t) for t in attribute_targets()],
        options=options("variants"),
    shell:
        "seqsal variants --threads {threads:q} --model {input.model:q} --variants {input.variants:q} "
        "--regions {input.regions:q} --fasta {input.fasta:q} --motifs-meme {input.meme:q} "
        "--method {params.method:q} --target {params.targets:q} {params.options:q} "
        "--track {output.track:q} --out-dir results/variants --log {log:q}"
