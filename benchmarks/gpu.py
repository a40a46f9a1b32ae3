"""Benchmark: seqsal on a GPU, and the wall time of 1,000,000 x 1 kb regions on 100 GPUs.

On one CUDA GPU, for the ``cnn`` (default) and ``bpnet`` architectures at 1 kb:

- training: regions per second per epoch (batch 64, the default, and 256), against the
  same machine's CPU with 2 threads (one 2-core cluster job);
- attribution: regions per second of gradient x input and DeepLIFT-SHAP (20 shuffles),
  each in fp32 and with ``precision="auto"``, and of ISM, against the CPU with 2
  threads, and against tangermeme and captum on the same GPU where they are installed
  (``.[bench]``), with the results compared first; peak GPU memory of each seqsal run.
  Every tool runs in full fp32 (cuDNN's TF32 off, as seqsal's ``fp32`` always is);
  ``precision_check`` shows what TF32 would change.

Then the estimate: per-shard jobs (encode on CPU, attribute on a GPU) spread over 100
GPUs, training on one GPU, for 1,000,000 regions x 1 kb. Prints a table and writes
``gpu.json`` (``--out``).

    python benchmarks/gpu.py                # needs a CUDA GPU
    python benchmarks/gpu.py --scale 0.25   # fewer sequences
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from attribute import attribute_job, random_onehot  # benchmarks/attribute.py, beside this

from seqsal.attribute import attribute, shuffled_references
from seqsal.models import build_model
from seqsal.train import train_model

LENGTH = 1000


def timed(run, device, warm_up=True):
    """Seconds of ``run()`` (after one warm-up call), the GPU synchronised around it."""
    if warm_up:
        run()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    out = run()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def train_rate(arch, n, batch, device, epochs=2):
    """Training regions per second per epoch (validation on 5% more included)."""
    X = random_onehot(n + n // 20, LENGTH, seed=1)
    y = np.random.default_rng(2).integers(0, 2, (len(X), 1)).astype(np.float32)
    split = np.array(["train"] * n + ["valid"] * (n // 20))

    def run():
        return train_model(
            X,
            y,
            split,
            tasks=["binary"],
            arch=arch,
            max_epochs=epochs,
            patience=epochs,
            batch_size=batch,
            device=device,
        )

    seconds, _ = timed(run, device, warm_up=False)  # warmed up by the first call
    return n * epochs / seconds


def attribution_rates(model, device, sizes, peers):
    """Regions/s per method on ``device``; with peers, theirs too and the checks."""
    out = {}
    for method, n in sizes.items():
        X = random_onehot(n, LENGTH, seed=3)
        kwargs = {"method": method.split(":")[0], "device": device}
        if method.endswith(":auto"):
            kwargs["precision"] = "auto"
        if kwargs["method"] == "deeplift_shap":
            refs = shuffled_references(X, 20, seed=0)
            kwargs["references"] = refs
        seconds, (_, attr, _) = timed(lambda X=X, kw=kwargs: attribute(model, X, **kw), device)
        row = {"n": n, "seqsal": n / seconds}
        if device == "cuda":
            row["gpu_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
        if peers and method == "grad_x_input":
            row.update(_grad_peers(model, X))
        if peers and method == "deeplift_shap":
            row.update(_dls_peers(model, X, refs, attr))
        out[method] = row
        print(
            f"    {device:<4} {method:<18} N={n:>6}  "
            + "  ".join(
                f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in row.items()
                if k != "n"
            ),
            flush=True,
        )
    return out


def min_pearson(a, b) -> float:
    return float(min(np.corrcoef(x, y)[0, 1] for x, y in zip(a, b)))


def captum_grad_x_input(model, X, device):
    from captum.attr import InputXGradient

    Xt = torch.as_tensor(X).float().to(device).requires_grad_()
    out = InputXGradient(model.to(device)).attribute(Xt, target=0)
    return out.detach().sum(1).cpu().numpy()


def precision_check(model, n=64):
    """Min per-region Pearson of gradient x input on the GPU against the same tool on
    the CPU (fp32): seqsal's fp32, and captum with cuDNN's TF32 on (PyTorch's default)
    and off. (seqsal centres gradients over the 4 bases, captum does not, so each tool
    is compared with itself.)"""
    X = random_onehot(n, LENGTH, seed=5)
    ours = attribute(model, X, device="cpu")[1]
    rows = {"seqsal fp32": min_pearson(attribute(model, X, device="cuda")[1], ours)}
    theirs = captum_grad_x_input(model, X, "cpu")
    for tf32 in (True, False):
        torch.backends.cudnn.allow_tf32 = tf32
        rows[f"captum tf32={tf32}"] = min_pearson(captum_grad_x_input(model, X, "cuda"), theirs)
    torch.backends.cudnn.allow_tf32 = True
    print("    min Pearson GPU vs CPU: " + ", ".join(f"{k} {v:.6f}" for k, v in rows.items()))
    return rows


def shard_job(arch, model, n, folder: Path) -> float:
    """Wall seconds of one ``seqsal attribute`` job (a fresh process: start-up, reading
    the shard, attribution on the GPU, writing hyp and attr) on ``n`` regions."""
    command = attribute_job(model, arch, LENGTH, n, folder, device="cuda")
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def _grad_peers(model, X):
    """Peers' gradient x input on the GPU (regions/s); not compared value for value:
    seqsal centres the gradient over the 4 bases, they do not."""
    from tangermeme.saliency import saliency

    Xt = torch.as_tensor(X).float()

    def captum():
        return [captum_grad_x_input(model, X[i : i + 256], "cuda") for i in range(0, len(X), 256)]

    t_captum, _ = timed(captum, "cuda")
    t_tm, _ = timed(lambda: saliency(model, Xt, batch_size=256, device="cuda"), "cuda")
    return {"captum": len(X) / t_captum, "tangermeme": len(X) / t_tm}


def _dls_peers(model, X, refs, attr):
    from tangermeme.deep_lift_shap import deep_lift_shap

    Xt, Rt = torch.as_tensor(X).float(), torch.as_tensor(refs)

    def run():
        return deep_lift_shap(
            model, Xt, references=Rt, batch_size=320, device="cuda", warning_threshold=1e9
        )

    seconds, theirs = timed(run, "cuda")
    r = min_pearson(attr, theirs.detach().sum(1).numpy())
    return {"tangermeme": len(X) / seconds, "min_pearson": float(r)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every size")
    parser.add_argument("--epochs", type=int, default=20, help="epochs assumed for 1M regions")
    parser.add_argument("--out", default="gpu.json")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("benchmarks/gpu.py: expected a CUDA GPU, found none")
    try:
        import captum  # noqa: F401
        import tangermeme  # noqa: F401

        peers = True
    except ImportError:
        peers = False
    n = lambda k: max(8, int(k * args.scale))  # noqa: E731
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; peers: {peers}")
    results = {"device": torch.cuda.get_device_name(), "models": {}}
    for arch in ("cnn", "bpnet"):
        torch.manual_seed(0)
        model = build_model(arch, input_length=LENGTH, n_outputs=1).eval()
        print(f"{arch}:")
        row = {"train": {}}
        train_rate(arch, 256, 64, "cuda", epochs=1)  # CUDA context, kernels chosen
        for batch in (64, 256):
            row["train"][f"cuda_b{batch}"] = train_rate(arch, n(20000), batch, "cuda")
        torch.set_num_threads(2)
        row["train"]["cpu_b64"] = train_rate(arch, n(1000), 64, "cpu", epochs=1)
        print(
            "    train regions/s/epoch: "
            + ", ".join(f"{k} {v:,.0f}" for k, v in row["train"].items()),
            flush=True,
        )
        gpu_sizes = {
            "grad_x_input": n(20000),
            "grad_x_input:auto": n(20000),
            "deeplift_shap": n(1000),
            "deeplift_shap:auto": n(1000),
            "ism": n(64),
        }
        cpu_sizes = {"grad_x_input": n(1000), "deeplift_shap": n(32), "ism": 4}
        if peers:
            row["precision"] = precision_check(model)
        torch.backends.cudnn.allow_tf32 = False  # every tool in full fp32, as seqsal's fp32
        row["cuda"] = attribution_rates(model, "cuda", gpu_sizes, peers)
        torch.backends.cudnn.allow_tf32 = True
        with tempfile.TemporaryDirectory() as folder:
            row["job_s"] = {k: shard_job(arch, model, n(k), Path(folder)) for k in (10_000, 50_000)}
        print(
            "    seqsal attribute job (s): "
            + ", ".join(f"{k:,} regions {v:.1f}" for k, v in row["job_s"].items()),
            flush=True,
        )
        row["cpu"] = attribution_rates(model, "cpu", cpu_sizes, False)
        results["models"][arch] = row

    # 1,000,000 x 1 kb on 100 GPUs: 100 shards of 10,000 regions, one attribute job
    # each (all at once), training on one GPU
    cnn = results["models"]["cnn"]
    regions = 1_000_000
    attribute_h = cnn["job_s"][10_000] / 3600
    train_h = args.epochs * 0.8 * regions / max(cnn["train"]["cuda_b64"], 1) / 3600
    train_h_256 = args.epochs * 0.8 * regions / max(cnn["train"]["cuda_b256"], 1) / 3600
    results["estimate_1M_100_gpus_h"] = {
        "attribute_grad_x_input_jobs_of_10k": attribute_h,
        "attribute_deeplift_shap": regions / (100 * cnn["cuda"]["deeplift_shap"]["seqsal"]) / 3600,
        f"train_{args.epochs}_epochs_b64": train_h,
        f"train_{args.epochs}_epochs_b256": train_h_256,
    }
    print("\nestimate, 1,000,000 x 1 kb, cnn, 100 GPUs (hours):")
    for key, value in results["estimate_1M_100_gpus_h"].items():
        print(f"  {key:<32} {value:8.3f}")
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
