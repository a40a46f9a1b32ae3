rule train:
    input:
        unpack(train_inputs),
        onehot=shard_files("encode"),
    output:
        model="results/train/model.pt",
        metrics="results/train/metrics.json",
        split="results/train/split.tsv",
        curves=report(
            "results/train/curves.png",
            caption="../report/curves.rst",
            category="Model",
        ),
    log:
        "logs/train/train.log",
    benchmark:
        "results/benchmarks/train/train.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input: 4000 + 2 * input.size_mb,
        gpu=gpus(),
    params:
        options=options("train"),
        regions=lambda wildcards, input: flag("regions", input.get("regions")),
    shell:
        "seqsal train --threads {threads:q} --onehot {input.onehot:q} {params.options:q} {params.regions:q} "
        "--out-dir results/train --log {log:q}"
