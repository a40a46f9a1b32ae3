rule evaluate:
    input:
        model="results/train/model.pt",
        onehot=shard_files("encode"),
        attributions=shard_files("attribute"),
        # the further methods on the first target, scored for faithfulness too
        also=lambda wildcards: expand(
            "results/attribute/{method}/{shard}.npz",
            method=config["attribute"]["methods"][1:],
            shard=shard_ids(),
        ),
        regions="results/regions/regions.bed",
        seqlets="results/seqlets/seqlets.bed",
        truth=config["truth"] or [],
        seed_models=config["evaluate"]["seed_models"],
        compare_to=config["evaluate"]["compare_to"] or [],
        # the test split, for the comparison's test scores
        split=["results/train/split.tsv"] if config["evaluate"]["compare_to"] else [],
    output:
        faithfulness="results/evaluate/faithfulness.tsv",
        stability="results/evaluate/stability.tsv",
        summary="results/evaluate/summary.json",
        curves=report(
            "results/evaluate/faithfulness_curves.png",
            caption="../report/faithfulness.rst",
            category="Trust",
        ),
        receptive_field=report(
            "results/evaluate/receptive_field.png",
            caption="../report/receptive_field.rst",
            category="Trust",
        ),
    log:
        "logs/evaluate/evaluate.log",
    benchmark:
        "results/benchmarks/evaluate/evaluate.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 2
    resources:
        mem_mb=8000,
    params:
        truth=flag("truth", config["truth"]),
        split=lambda wildcards, input: flag("split", input.split),
        # the attribution run evaluated: the stability tests redo it
        attribution=attribute_run(""),
        also=lambda wildcards, input: also_options(input.also),
        options=options("evaluate"),
    shell:
        "seqsal evaluate --threads {threads:q} --model {input.model:q} --onehot {input.onehot:q} "
        "--attributions {input.attributions:q} --regions {input.regions:q} "
        "--seqlets {input.seqlets:q} {params.split:q} {params.truth:q} {params.attribution:q} "
        "{params.also:q} {params.options:q} --out-dir results/evaluate --log {log:q}"
