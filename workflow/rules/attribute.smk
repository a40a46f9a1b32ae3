rule attribute:
    input:
        model="results/train/model.pt",
        onehot="results/encode/{shard}.npz",
    output:
        "results/attribute/{shard}.npz",
    log:
        "logs/attribute/{shard}.log",
    benchmark:
        "results/benchmarks/attribute/{shard}.tsv"
    conda:
        "../../envs/seqsal.yaml"
    params:
        method=config["attribute"]["methods"][0],
        target=config["attribute"]["target"],
        batch_size=config["attribute"]["batch_size"],
        device=config["device"],
    shell:
        "seqsal attribute --model {input.model} --onehot {input.onehot} "
        "--method {params.method} --target {params.target} "
        "--batch-size {params.batch_size} --device {params.device} --out {output} 2> {log}"
