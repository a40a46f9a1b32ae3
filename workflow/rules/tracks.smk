rule tracks:
    input:
        attributions=shard_files("attribute"),
        regions="results/regions/regions.bed",
        seqlets="results/seqlets/seqlets.bed",
        assignments="results/motifs/seqlet_motifs.tsv",
        table="results/motifs/motifs.tsv",
        fasta=fasta_path(),
    output:
        bigwig="results/tracks/attribution.bw",
        bed="results/tracks/seqlets.bed",
        session="results/tracks/igv_session.xml",
    log:
        "logs/tracks/tracks.log",
    benchmark:
        "results/benchmarks/tracks/tracks.tsv"
    conda:
        "../../envs/seqsal.yaml"
    shell:
        "seqsal tracks --attributions {input.attributions} --regions {input.regions} "
        "--seqlets {input.seqlets} --seqlet-motifs {input.assignments} "
        "--motifs-tsv {input.table} --fasta {input.fasta:q} --out-dir results/tracks 2> {log}"
