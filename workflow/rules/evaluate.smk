rule evaluate:
    input:
        model="results/train/model.pt",
        onehot=shard_files("encode"),
        attributions=shard_files("attribute"),
        regions="results/regions/regions.bed",
        seqlets="results/seqlets/seqlets.bed",
        truth=config["truth"] or [],
    output:
        faithfulness="results/evaluate/faithfulness.tsv",
        summary="results/evaluate/summary.json",
        plot="results/evaluate/deletion_curves.png",
    log:
        "logs/evaluate/evaluate.log",
    benchmark:
        "results/benchmarks/evaluate/evaluate.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
    params:
        truth=flag("truth", config["truth"]),
        # the attribution run evaluated: strand stability redoes it on reverse complements
        attribution=attribute_options(
            config["attribute"]["methods"][0], attribute_targets()[0]
        ),
        n_steps=config["evaluate"]["n_steps"],
        max_regions=config["evaluate"]["max_regions"],
    shell:
        "seqsal evaluate --model {input.model} --onehot {input.onehot} "
        "--attributions {input.attributions} --regions {input.regions} "
        "--seqlets {input.seqlets} {params.truth} {params.attribution} "
        "--n-steps {params.n_steps} --max-regions {params.max_regions} "
        "--out-dir results/evaluate 2> {log}"
