rule report:
    input:
        **variant_inputs(),
        metrics="results/train/metrics.json",
        curves="results/train/curves.png",
        table="results/motifs/motifs.tsv",
        assignments="results/motifs/seqlet_motifs.tsv",
        logos="results/motifs/logos",
        seqlets="results/seqlets/seqlets.bed",
        regions="results/regions/regions.bed",
        data="results/regions/summary.json",
        summary="results/evaluate/summary.json",
        curves_plot="results/evaluate/faithfulness_curves.png",
        field_plot="results/evaluate/receptive_field.png",
        attributions=shard_files("attribute"),
        onehot=shard_files("encode"),
        tracks="results/tracks/igv_session.xml",
        fasta=fasta_path(),
    output:
        report(
            "results/report/report.html",
            caption="../report/report.rst",
            category="Report",
        ),
    log:
        "logs/report/report.log",
    benchmark:
        "results/benchmarks/report/report.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: 2000 + 2 * input.size_mb,
    params:
        method=config["attribute"]["methods"][0],
        options=options("report"),
        variants=lambda wildcards, input: flag(
            "variants",
            (
                [input.variants, input.variant_maps, "results/variants/rejected.tsv"]
                if config["variants"]["file"]
                else None
            ),
        ),
    shell:
        "seqsal report --threads {threads:q} --metrics {input.metrics:q} --curves {input.curves:q} "
        "--motifs-tsv {input.table:q} --seqlet-motifs {input.assignments:q} "
        "--logos {input.logos:q} --seqlets {input.seqlets:q} --regions {input.regions:q} "
        "--summary {input.summary:q} --data {input.data:q} --faithfulness-plot {input.curves_plot:q} "
        "--receptive-field-plot {input.field_plot:q} --fasta {input.fasta:q} "
        "--attributions {input.attributions:q} --onehot {input.onehot:q} "
        "--method {params.method:q} {params.options:q} {params.variants:q} --out {output:q} --log {log:q}"
