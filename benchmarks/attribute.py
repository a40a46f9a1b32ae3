"""Benchmark: seqsal's attribution engine against captum and tangermeme, in one run.

Models with random weights: the BPNet-like 1 kb model and the DeepSTARR-like 249 bp
model of ``seqsal.models``, then models of the same shapes defined outside seqsal
(``benchmarks/foreign.py``, what users bring: seqsal finds their structure with
``torch.fx`` or runs them as they are), the BPNet-like one also as TorchScript. Every
tool runs on the same sequences, on the same machine,
each at its own best batch size (swept over 16-256 first), and the median of 3 repeats
is compared as a ratio (peer time / seqsal time). Four comparisons:

- gradient x input: seqsal vs captum ``InputXGradient`` and tangermeme ``saliency``
  (seqsal in fp32, and with ``precision="auto"``: a bfloat16 model where it matches fp32);
- DeepLIFT-SHAP with 20 dinucleotide shuffles: seqsal vs tangermeme ``deep_lift_shap``
  and captum ``DeepLiftShap``, all given the same references (the peers on the model
  with its ``torch.relu`` calls as layers, which their hooks need: as given,
  tangermeme's maps miss completeness); agreement with tangermeme is the per-region
  Pearson correlation of the actual contributions;
- ISM: seqsal vs tangermeme ``saturation_mutagenesis``, with tangermeme's fastISM path
  forced on (its default only tries it on jobs over 30 s); values are compared directly;
- the per-call overhead: gradient x input on 32 sequences, one call per tool (seqsal
  choosing its own batch size), 15 rounds.

Then peak RSS of ``seqsal attribute`` (a fresh process) and of tangermeme ``saliency`` on
the whole array for N = 2k and 20k sequences, and each method's effective FLOP/s (the
full model's FLOPs for the work it stands for, per second) against the machine's conv
throughput measured here.

    pip install -e ".[bench]"
    python benchmarks/attribute.py           # everything (about 15 minutes on 2 cores)
    python benchmarks/attribute.py --quick   # fewer sequences, no RSS runs
    python benchmarks/attribute.py --compile # what torch.compile would buy, and cost
    python benchmarks/attribute.py --model foreign_bpnet_1kb --method ism  # one comparison
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from foreign import BPNetLike, DeepSTARRLike, scripted

from seqsal.attribute import attribute, shuffled_references
from seqsal.models import BPNet, DeepSTARR, with_activation_layers

BATCHES = (16, 32, 64, 128, 256)
BARS = {"grad_x_input": 1.3, "small_n": 1.0, "deeplift_shap": 2.0, "ism": 1.5}


def models():
    """seqsal's own models, then models defined outside it (``benchmarks/foreign.py``),
    as modules and as TorchScript."""
    torch.manual_seed(0)
    return {
        "bpnet_1kb": BPNet(input_length=1000, n_outputs=1).eval(),
        "deepstarr_249bp": DeepSTARR(input_length=249, n_outputs=2).eval(),
        "foreign_bpnet_1kb": BPNetLike().eval(),
        "foreign_deepstarr_249bp": DeepSTARRLike().eval(),
        "foreign_bpnet_1kb_torchscript": scripted(BPNetLike().eval()),
    }


OWN = ("bpnet_1kb", "deepstarr_249bp")  # the peak RSS runs save these as checkpoints
TWINS = {"foreign_bpnet_1kb_torchscript": "foreign_bpnet_1kb"}  # FLOPs counted on the module


def random_onehot(n, length, seed=0):
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 4, length), np.uint8)
    X[np.arange(n)[:, None], rng.integers(0, 4, (n, length)), np.arange(length)] = 1
    return X


def seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def compare(tools: dict, repeats: int = 5):
    """Each tool at its best batch size: a sweep of one run per batch size, then
    ``repeats`` rounds that run every tool once each (so that the machine's drift hits
    all of them alike); returns ``{tool: (median seconds, batch)}``."""
    best = {}
    for tool, runs in tools.items():
        sweep = {batch: seconds(run) for batch, run in runs.items()}
        best[tool] = min(sweep, key=sweep.get)
    times = {tool: [] for tool in tools}
    for _ in range(repeats):
        for tool, runs in tools.items():
            times[tool].append(seconds(runs[best[tool]]))
    out = {}
    for tool in tools:
        median = statistics.median(times[tool])
        out[tool] = (median, best[tool])
        print(f"    {tool:<40} best batch {best[tool]:>4}  median {median:8.3f} s", flush=True)
    return out


def conv_throughput():
    """FLOP/s of a 64->64 channel, width-3 convolution over 1 kb, forward (this machine)."""
    conv = torch.nn.Conv1d(64, 64, 3, padding=1).eval().requires_grad_(False)
    x = torch.randn(64, 64, 1000)
    with torch.no_grad():
        conv(x)
        t = statistics.median(seconds(lambda: conv(x)) for _ in range(5))
    return 2 * 64 * 64 * 3 * 1000 * 64 / t


def forward_flops(model, length):
    """FLOPs (2 per multiply-add) of one forward pass over one sequence."""
    total = []

    def count(module, inputs, output):
        if isinstance(module, torch.nn.Conv1d):
            k = module.kernel_size[0] * module.in_channels // module.groups
            total.append(2 * k * output.numel())
        elif isinstance(module, torch.nn.Linear):
            total.append(2 * module.in_features * output.numel())

    handles = [m.register_forward_hook(count) for m in model.modules()]
    with torch.no_grad():
        model(torch.zeros(1, 4, length))
    for handle in handles:
        handle.remove()
    return sum(total)


def grad_x_input(model, X, checks):
    from captum.attr import InputXGradient
    from tangermeme.saliency import saliency

    Xt = torch.as_tensor(X).float()
    ixg = InputXGradient(model)

    def captum(batch):
        for i in range(0, len(Xt), batch):
            ixg.attribute(Xt[i : i + batch].clone().requires_grad_(), target=0)

    times = compare(
        {
            "seqsal fp32": {b: (lambda b=b: attribute(model, X, batch_size=b)) for b in BATCHES},
            "seqsal auto": {
                b: (lambda b=b: attribute(model, X, batch_size=b, precision="auto"))
                for b in BATCHES
            },
            "captum InputXGradient": {b: (lambda b=b: captum(b)) for b in BATCHES},
            "tangermeme saliency": {
                b: (lambda b=b: saliency(model, Xt, batch_size=b)) for b in BATCHES
            },
        }
    )
    fp32 = attribute(model, X)[1]
    auto = attribute(model, X, precision="auto", log=_Log())[1]
    r = [np.corrcoef(a, b)[0, 1] for a, b in zip(fp32, auto)]
    checks["auto_vs_fp32_min_pearson"] = float(min(r))
    print(f"    precision=auto vs fp32: min per-region Pearson {min(r):.4f}")
    return times


def small_n(model, X, checks):
    """Per-call overhead: gradient x input on a few dozen sequences, one call each, as a
    user explains a handful of regions (seqsal choosing its own batch size)."""
    from captum.attr import InputXGradient
    from tangermeme.saliency import saliency

    Xt, n = torch.as_tensor(X).float(), len(X)
    ixg = InputXGradient(model)
    return compare(
        {
            "seqsal": {n: lambda: attribute(model, X)},
            "captum InputXGradient": {n: lambda: ixg.attribute(Xt.clone().requires_grad_(), 0)},
            "tangermeme saliency": {n: lambda: saliency(model, Xt, batch_size=n)},
        },
        repeats=15,
    )


class _Log:
    def info(self, message, *args):
        print("    " + message % args)

    warning = info


def deeplift_shap(model, X, checks):
    from captum.attr import DeepLiftShap
    from tangermeme.deep_lift_shap import deep_lift_shap

    refs = shuffled_references(X, 20, seed=0)
    Xt, Rt = torch.as_tensor(X).float(), torch.as_tensor(refs)
    # The peers hook activation layers only: a torch.relu in forward gets no DeepLIFT
    # rule there, so they are given the same function with its activations as layers
    # (what a user of theirs would have to write) and timed on it.
    layered = with_activation_layers(model)
    dls = DeepLiftShap(layered)

    def captum():
        for i in range(len(Xt)):
            dls.attribute(Xt[i : i + 1], baselines=Rt[i], target=0)

    def tangermeme(batch, given=layered):
        return deep_lift_shap(given, Xt, references=Rt, batch_size=batch, warning_threshold=1e9)

    def ours(batch):
        return attribute(model, X, method="deeplift_shap", references=refs, batch_size=batch)[1]

    pairs = [b for b in BATCHES if b >= 20] + [320]
    times = compare(
        {
            "seqsal": {b: (lambda b=b: ours(b)) for b in pairs},
            "tangermeme deep_lift_shap": {b: (lambda b=b: tangermeme(b)) for b in pairs},
            "captum DeepLiftShap": {20: captum},  # one region (its 20 references) per call
        },
        repeats=3,
    )
    if layered is not model:  # what the peers' maps of the model as given miss
        with torch.no_grad():
            fx = model(Xt)[:, 0]
            change = (fx - model(Rt.flatten(0, 1))[:, 0].view(len(Xt), -1).mean(1)).numpy()
        miss = np.abs(tangermeme(64, model).sum((1, 2)).numpy() - change).max()
        checks["tangermeme_on_the_model_as_given_completeness"] = float(miss)
        print(f"    tangermeme on the model as given: largest completeness miss {miss:.3g}")
    theirs = tangermeme(64).sum(1).numpy()
    r = min(np.corrcoef(a, b)[0, 1] for a, b in zip(ours(None), theirs))
    checks["deeplift_vs_tangermeme_min_pearson"] = float(r)
    print(f"    vs tangermeme on the same references: min per-region Pearson {r:.6f}")
    return times


def ism(model, X, checks):
    import tangermeme.saturation_mutagenesis as tm_ism

    tm_ism._FAST_MIN_SECONDS = 0.0  # give tangermeme its fastISM path on every job
    Xt = torch.as_tensor(X).float()

    def tangermeme(batch):
        return tm_ism.saturation_mutagenesis(model, Xt, batch_size=batch, target=0)

    batches = (64, 128, 256)
    times = compare(
        {
            "seqsal": {
                b: (lambda b=b: attribute(model, X, method="ism", batch_size=b)) for b in BATCHES
            },
            "tangermeme saturation_mutagenesis": {b: (lambda b=b: tangermeme(b)) for b in batches},
        },
        repeats=3,
    )
    ours = attribute(model, X, method="ism")[0] * X  # tangermeme returns hyp at the base present
    theirs = tangermeme(128).numpy()
    diff = float(np.abs(ours - theirs).max())
    checks["ism_max_abs_difference"] = diff
    print(f"    largest |seqsal - tangermeme| {diff:.2e} (values up to {np.abs(theirs).max():.2e})")
    return times


RSS_SCRIPT = """
import sys, numpy as np, torch
torch.set_num_threads(2)
from tangermeme.saliency import saliency
sys.path.insert(0, {bench!r})
from attribute import models
X = torch.as_tensor(np.load(sys.argv[1])["X"]).float()
saliency(models()[sys.argv[2]], X, batch_size=64)
print(peak_mib())
"""

PEAK = """
def peak_mib():  # this process's own high-water mark (ru_maxrss would count the parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""


def attribute_job(model, name, length, n, folder: Path, *, device="cpu", prelude="") -> list:
    """Write a checkpoint of ``model`` and a shard of ``n`` random sequences to ``folder``
    and return the command of one ``seqsal attribute`` job on them, a fresh process
    (``prelude``: Python run first, e.g. :data:`PEAK`, whose ``peak_mib()`` it prints)."""
    from seqsal.io import write_npz
    from seqsal.models import save_checkpoint

    model = model.cpu()
    with torch.no_grad():
        n_outputs = model(torch.zeros(1, 4, length)).shape[1]
    checkpoint, shard = folder / f"{name}.pt", folder / f"{name}_{n}.npz"
    save_checkpoint(
        model,
        checkpoint,
        arch=name.split("_")[0],
        hparams={"input_length": length, "n_outputs": n_outputs},
        targets=[f"t{i}" for i in range(n_outputs)],
        tasks=["regression"] * n_outputs,
        metrics={},
    )
    write_npz(shard, X=random_onehot(n, length, seed=n), names=np.arange(n).astype(str))
    probe = "print(peak_mib())\n" if prelude else ""
    script = f"{prelude}import sys\nfrom seqsal.cli import main\nrc = main(sys.argv[1:])\n"
    return [
        sys.executable,
        "-c",
        f"{script}{probe}sys.exit(rc)",
        "attribute",
        "--model",
        str(checkpoint),
        "--onehot",
        str(shard),
        "--device",
        device,
        "--out",
        str(folder / "out.npz"),
    ]


def peak_rss(name, model, length, sizes, folder: Path):
    """Peak RSS (MiB) of ``seqsal attribute`` and of tangermeme saliency, fresh processes."""
    rows = []
    for n in sizes:
        ours = _rss(attribute_job(model, name, length, n, folder, prelude=PEAK))
        peer = _rss(
            [
                sys.executable,
                "-c",
                PEAK + RSS_SCRIPT.format(bench=str(Path(__file__).parent)),
                str(folder / f"{name}_{n}.npz"),
                name,
            ]
        )
        rows.append({"model": name, "n": n, "seqsal_mib": ours, "tangermeme_saliency_mib": peer})
        print(
            f"    N={n:>6}: seqsal attribute {ours:7.0f} MiB   tangermeme saliency {peer:7.0f} MiB"
        )
    return rows


def _rss(command) -> float:
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def speed(scale: float, only: str | None = None, methods=None) -> dict:
    """Every comparison on both models; prints as it goes, returns the figures."""
    sizes = {  # sequences per comparison and model family
        "bpnet_1kb": {"grad_x_input": 512, "small_n": 32, "deeplift_shap": 16, "ism": 4},
        "deepstarr_249bp": {"grad_x_input": 2048, "small_n": 32, "deeplift_shap": 64, "ism": 128},
    }
    peak = conv_throughput()
    print(f"machine conv throughput (fp32, 2 threads): {peak / 1e9:.1f} GFLOP/s\n")
    results = {"conv_gflops": peak / 1e9, "models": {}}
    for name, model in models().items():
        if only and name != only:
            continue
        length = model.input_length
        flops = forward_flops(models()[TWINS.get(name, name)], length)
        print(f"{name}: {flops / 1e6:.1f} MFLOP per forward pass")
        checks, summary = {}, {}
        for method, run in (
            ("grad_x_input", grad_x_input),
            ("small_n", small_n),
            ("deeplift_shap", deeplift_shap),
            ("ism", ism),
        ):
            if methods and method not in methods:
                continue
            family = "bpnet_1kb" if "bpnet" in name else "deepstarr_249bp"
            n = sizes[family][method]
            n = n if method == "small_n" else max(2, int(n * scale))
            X = random_onehot(n, length, seed=1)
            print(f"  {method} on {n} sequences")
            try:
                times = run(model, X, checks)
            except Exception as error:  # a peer (or seqsal) that cannot run this model
                print(f"    skipped: {type(error).__name__}: {str(error).splitlines()[0][:120]}")
                continue
            ours = min(t for tool, (t, _) in times.items() if tool.startswith("seqsal"))
            work = {"grad_x_input": 3, "small_n": 3, "deeplift_shap": 20 * 3, "ism": 3 * length}
            work = work[method]
            summary[method] = {
                "n": n,
                "seqsal_regions_per_s": n / ours,
                "seqsal_effective_gflops": work * flops * n / ours / 1e9,
                "ratios": {
                    peer: t / ours
                    for peer, (t, _) in times.items()
                    if not peer.startswith("seqsal")
                },
                "times": {peer: {"median_s": t, "batch": b} for peer, (t, b) in times.items()},
            }
            if "seqsal fp32" in times:
                summary[method]["ratios_fp32"] = {
                    peer: t / times["seqsal fp32"][0]
                    for peer, (t, _) in times.items()
                    if not peer.startswith("seqsal")
                }
        results["models"][name] = {"summary": summary, "checks": checks}
        print()
    return results


def compile_costs() -> dict:
    """What ``torch.compile`` (inductor) would buy on the DeepSTARR-like foreign model:
    gradient x input of its simplified copy compiled against seqsal's eager run, and the
    DeepLIFT max-pool rule's backward (the largest share of DeepLIFT-SHAP's time there)
    compiled against eager, each with the compile's seconds."""
    from types import SimpleNamespace

    from seqsal.attribute.deeplift import _BlockMaxRule
    from seqsal.models import simplified

    model = DeepSTARRLike().eval().requires_grad_(False)
    X = torch.as_tensor(random_onehot(1024, 249, seed=1)).float()
    fast = simplified(model, pool_first=True)

    def gxi(module, x):
        x = x.clone().requires_grad_()
        return torch.autograd.grad(module(x)[:, 0].sum(), x)[0] * x

    def loop(module):
        for i in range(0, len(X), 64):
            gxi(module, X[i : i + 64])

    compiled = torch.compile(fast, dynamic=False)
    first = seconds(lambda: loop(compiled))  # compiles on the first batch
    out = {
        "grad_x_input": {
            "eager_s": statistics.median(seconds(lambda: loop(fast)) for _ in range(3)),
            "compiled_s": statistics.median(seconds(lambda: loop(compiled)) for _ in range(3)),
        }
    }
    out["grad_x_input"]["compile_s"] = first - out["grad_x_input"]["compiled_s"]
    # the rule's backward on the first pool of a batch of 4 sequences x 20 references
    B, K, C, L = 4, 20, 256, 249
    x_in, r_in = torch.randn(B, C, L), torch.randn(B * K, C, L)
    x_blocks, r_blocks = (z[..., :248].unflatten(-1, (124, 2)) for z in (x_in, r_in))
    (x_out, x_index), (r_out, r_index) = x_blocks.max(-1), r_blocks.max(-1)
    grad = torch.randn(B * K, C, 124)

    backward = vars(_BlockMaxRule)["backward"].__func__  # as a plain function, for dynamo

    def rule(grad, *saved):
        ctx = SimpleNamespace(saved_tensors=saved, K=K, length=L)
        return backward(ctx, grad)[0]

    saved = (r_out, r_blocks, x_blocks, x_out, r_index, x_index)
    compiled_rule = torch.compile(rule, dynamic=False)
    first = seconds(lambda: compiled_rule(grad, *saved))
    row = {
        "eager_s": statistics.median(seconds(lambda: rule(grad, *saved)) for _ in range(5)),
        "compiled_s": statistics.median(
            seconds(lambda: compiled_rule(grad, *saved)) for _ in range(5)
        ),
    }
    out["deeplift_maxpool_rule"] = {**row, "compile_s": first - row["compiled_s"]}
    for name, row in out.items():
        saved_s = row["eager_s"] - row["compiled_s"]
        pays = (
            f"pays off after {row['compile_s'] / saved_s:.0f} such runs"
            if saved_s > 0
            else "no gain"
        )
        print(
            f"  {name}: eager {row['eager_s']:.3f} s, compiled {row['compiled_s']:.3f} s, "
            f"compile {row['compile_s']:.1f} s: {pays}"
        )
    return out


def print_ratios(results: dict) -> None:
    print("speed-ups (peer time / seqsal time; bar in brackets):")
    for name, result in results["models"].items():
        for method, row in result["summary"].items():
            bar = BARS[method]
            for peer, ratio in row["ratios"].items():
                mark = "ok" if ratio >= bar else "BELOW BAR"
                print(f"  {name:<16} {method:<14} vs {peer:<36} {ratio:5.2f}x  [{bar}x] {mark}")
            if "ratios_fp32" in row:
                for peer, ratio in row["ratios_fp32"].items():
                    print(f"  {name:<16} {method:<14} vs {peer:<36} {ratio:5.2f}x  (seqsal fp32)")
            print(
                f"  {name:<16} {method:<14} seqsal {row['seqsal_regions_per_s']:.2f} regions/s, "
                f"effective {row['seqsal_effective_gflops']:.1f} GFLOP/s "
                f"({row['seqsal_effective_gflops'] / results['conv_gflops']:.2f}x the conv peak)"
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sequences, no RSS runs")
    parser.add_argument("--out", default=None, help="also write the results as JSON here")
    parser.add_argument("--rss-only", action="store_true", help="only the peak RSS runs")
    parser.add_argument("--model", choices=list(models()), help="only this model")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak RSS runs")
    parser.add_argument(
        "--method", nargs="+", choices=list(BARS), help="only these comparisons (no RSS runs)"
    )
    parser.add_argument(
        "--compile", action="store_true", help="only what torch.compile would buy (and cost)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    warnings.filterwarnings("ignore")
    if args.compile:
        print("torch.compile (inductor) on the DeepSTARR-like foreign model:")
        results = {"compile": compile_costs()}
        if args.out:
            Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
        return
    results = {} if args.rss_only else speed(0.25 if args.quick else 1.0, args.model, args.method)
    if results:
        print_ratios(results)
    if not (args.quick or args.no_rss or args.method):
        print("\npeak RSS, fresh processes (grad x input):")
        results["rss"] = []
        with tempfile.TemporaryDirectory() as folder:
            for name, model in models().items():
                if name not in OWN:
                    continue
                results["rss"] += peak_rss(
                    name, model, model.input_length, (2000, 20000), Path(folder)
                )
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
