rule train:
    input:
        onehot=shard_files("encode"),
    output:
        model="results/train/model.pt",
        metrics="results/train/metrics.json",
        curves="results/train/curves.png",
    log:
        "logs/train/train.log",
    benchmark:
        "results/benchmarks/train/train.tsv"
    conda:
        "../../envs/seqsal.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input: 4000 + 2 * input.size_mb,
        runtime=720,
        gpu=gpus(),
    params:
        checkpoint=flag("checkpoint", config["model"]["checkpoint"]),
        arch=config["model"]["arch"],
        hparams=json.dumps(config["model"]["hparams"]),
        tasks=flag(
            "tasks", [f"{k}={v}" for k, v in (config["model"]["tasks"] or {}).items()]
        ),
        weight_decay=config["model"]["weight_decay"],
        rc=("--rc-augment" if config["model"]["rc_augment"] else "--no-rc-augment")
        + (" --rc-average" if config["model"]["rc_average"] else ""),
        test_names=flag("test-names", config["split"]["test_names"]),
        test_chroms=flag("test-chroms", config["split"]["test_chroms"]),
        test_fraction=config["split"]["test_fraction"],
        valid_fraction=config["split"]["valid_fraction"],
        max_epochs=config["model"]["max_epochs"],
        patience=config["model"]["patience"],
        batch_size=config["model"]["batch_size"],
        learning_rate=config["model"]["learning_rate"],
        device=config["device"],
        seed=config["seed"],
    shell:
        "seqsal train --onehot {input.onehot} {params.checkpoint} --arch {params.arch} "
        "--hparams {params.hparams:q} {params.tasks} --weight-decay {params.weight_decay} "
        "{params.rc} {params.test_names} "
        "{params.test_chroms} --test-fraction {params.test_fraction} "
        "--valid-fraction {params.valid_fraction} --max-epochs {params.max_epochs} "
        "--patience {params.patience} --batch-size {params.batch_size} "
        "--learning-rate {params.learning_rate} --device {params.device} "
        "--seed {params.seed} --out-dir results/train 2> {log}"
