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
        target=shlex.quote(str(attribute_targets()[0])),
        rc_average=flag("rc-average", config["attribute"]["rc_average"]),
        method=config["attribute"]["methods"][0],
        output=config["attribute"]["output"],
        n_steps=config["evaluate"]["n_steps"],
        max_regions=config["evaluate"]["max_regions"],
        device=config["device"],
        seed=config["seed"],
    shell:
        "seqsal evaluate --model {input.model} --onehot {input.onehot} "
        "--attributions {input.attributions} --regions {input.regions} "
        "--seqlets {input.seqlets} {params.truth} --target {params.target} {params.rc_average} "
        "--method {params.method} --output {params.output} "
        "--n-steps {params.n_steps} --max-regions {params.max_regions} "
        "--device {params.device} --seed {params.seed} --out-dir results/evaluate 2> {log}"
