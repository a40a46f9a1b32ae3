rule tracks:
    input:
        attributions=shard_files("attribute"),
        methods=method_shard_files(),
        regions="results/regions/regions.bed",
        seqlets="results/seqlets/seqlets.bed",
        assignments="results/motifs/seqlet_motifs.tsv",
        table="results/motifs/motifs.tsv",
        meme="results/motifs/motifs.meme",
        onehot=shard_files("encode"),
        fasta=fasta_path(),
        truth=config["truth"] or [],
        variant_track=variant_inputs().get("variant_track", []),
        annotation=config["tracks"]["annotation"] or [],
    output:
        bigwig="results/tracks/attribution.bw",
        bed="results/tracks/seqlets.bed",
        hits="results/tracks/motif_hits.bed",
        bgzip="results/tracks/seqlets.bed.gz",
        tabix="results/tracks/seqlets.bed.gz.tbi",
        session="results/tracks/igv_session.xml",
        page="results/tracks/igv.html",
        methods=method_bigwigs(),
        extra=optional_tracks(),
    log:
        "logs/tracks/tracks.log",
    benchmark:
        "results/benchmarks/tracks/tracks.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input: 4000 + 2 * input.size_mb,
    params:
        methods=lambda wildcards, input: flag(
            "method-attributions", list(input.methods)
        ),
        options=options("tracks", exclude=("annotation",)),
        annotation=lambda wildcards, input: flag("annotation", input.annotation or None),
        truth=flag("truth", config["truth"]),
        variants=lambda wildcards, input: flag(
            "variant-track", input.variant_track or None
        ),
    shell:
        "seqsal tracks --threads {threads:q} --attributions {input.attributions:q} {params.methods:q} "
        "--regions {input.regions:q} --seqlets {input.seqlets:q} "
        "--seqlet-motifs {input.assignments:q} --motifs-tsv {input.table:q} "
        "--motifs-meme {input.meme:q} --onehot {input.onehot:q} --fasta {input.fasta:q} {params.truth:q} {params.variants:q} {params.annotation:q} "
        "{params.options:q} --out-dir results/tracks --log {log:q}"
