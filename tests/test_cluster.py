"""Scale-out: shard size changes nothing, a killed run resumes, SLURM runs the workflow.

The SLURM test starts a one-node cluster on this machine (Debian's slurm-wlm and munge,
as root); it skips, saying why, where that is not possible. `.ci/run` installs both.
"""

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pyBigWig
import pytest
import torch
from test_workflow import ROOT, TINY, snakemake, snakemake_command

from seqsal.io import read_shards

LOCAL_PROFILE = str(ROOT / "config" / "profiles" / "local")
MARK = "# one-node test cluster written by seqsal's tests/test_cluster.py"


def tiny(shard_size: int, checkpoint=None) -> str:
    """The tiny demo in shards of ``shard_size``; with ``checkpoint``, that model is loaded
    instead of trained (CPU training is not bitwise reproducible from run to run: once in
    five CI runs the weights differed by 2e-4, so the runs compared share one model)."""
    config = re.sub(r"shard_size: \d+", f"shard_size: {shard_size}", TINY)
    if checkpoint:
        config = re.sub(r"model: \{.*\}", f"model: {{checkpoint: {checkpoint}}}", config)
        assert "checkpoint" in config
    return config


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny demo run locally in one shard, uninterrupted."""
    workdir = tmp_path_factory.mktemp("reference")
    snakemake(workdir, "--profile", LOCAL_PROFILE, config=tiny(1000))
    return workdir / "results"


def assert_same_results(results, reference):
    """The final outputs of two runs agree: model, attributions, seqlets, motifs, tracks."""
    ours = torch.load(results / "train/model.pt", weights_only=True)["state_dict"]
    theirs = torch.load(reference / "train/model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    a = read_shards(sorted((results / "attribute").glob("*.npz")))
    b = read_shards(sorted((reference / "attribute").glob("*.npz")))
    assert a["names"].tolist() == b["names"].tolist()
    np.testing.assert_allclose(a["attr"], b["attr"], rtol=1e-5, atol=1e-7)
    for name in ("seqlets/seqlets.bed", "motifs/motifs.tsv", "motifs/seqlet_motifs.tsv"):
        assert (results / name).read_text() == (reference / name).read_text(), name
    bw, ref = (pyBigWig.open(str(r / "tracks/attribution.bw")) for r in (results, reference))
    for chrom, size in ref.chroms().items():
        np.testing.assert_allclose(
            bw.values(chrom, 0, size, numpy=True),
            ref.values(chrom, 0, size, numpy=True),
            rtol=1e-5,
            atol=1e-7,
        )


def test_a_killed_run_with_another_shard_size_resumes_to_the_same_results(reference, tmp_path):
    """Shards of 100 (3 jobs per stage), killed (SIGKILL, every process) once the first
    attribution shard is written; after ``--unlock`` the same command finishes without
    redoing finished shards, and the results are the one-shard run's."""
    command, env = snakemake_command(
        tmp_path, "--profile", LOCAL_PROFILE, config=tiny(100, reference / "train/model.pt")
    )
    run = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    first = tmp_path / "results" / "attribute" / "000.npz"
    deadline = time.monotonic() + 600
    while not first.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)  # the node dies: no clean-up of any kind
    run.wait()
    assert first.exists() and not (tmp_path / "results" / "report").exists()
    done = {p: p.stat().st_mtime_ns for p in (tmp_path / "results").glob("*/*.npz")}
    assert len([p for p in done if p.parent.name == "encode"]) == 3
    # a killed Snakemake leaves its lock, which keeps a second run out of the folder as a
    # live run's does: refused, nothing written; --unlock, then the same command
    second = subprocess.run(command, env=env, capture_output=True, text=True)
    assert second.returncode != 0 and "Directory cannot be locked" in second.stderr
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in done.items())
    subprocess.run([*command, "--unlock"], env=env, capture_output=True, check=True)
    again = subprocess.run(command, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-3000:]
    for path, mtime in done.items():  # finished shards were not redone
        assert path.stat().st_mtime_ns == mtime, path
    assert_same_results(tmp_path / "results", reference)


def _start_slurm(folder):
    """A one-node SLURM cluster (slurmctld + slurmd as root, munge), or a reason why not."""
    needed = ["munged", "slurmctld", "slurmd", "sbatch", "squeue"]
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        return (
            None,
            f"SLURM is not installed ({', '.join(missing)} absent: "
            "apt-get install slurm-wlm munge)",
        )
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return None, "the SLURM executor plugin is not installed (pip install -e '.[slurm]')"
    if os.geteuid() != 0:
        return None, "starting slurmctld/slurmd needs root"
    if subprocess.run(["munge", "-n"], capture_output=True).returncode != 0:
        os.makedirs("/run/munge", exist_ok=True)
        for path in ("/run/munge", "/etc/munge", "/var/lib/munge", "/var/log/munge"):
            if os.path.exists(path):
                shutil.chown(path, "munge", "munge")
        subprocess.run(
            ["runuser", "-u", "munge", "--", shutil.which("munged")], capture_output=True
        )
        if subprocess.run(["munge", "-n"], capture_output=True).returncode != 0:
            return None, "munged did not start"
    for name in ("state", "spool", "log"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    # srun inside the jobs reads the default location only (SLURM_CONF does not reach it)
    conf = Path("/etc/slurm/slurm.conf")
    if conf.exists() and MARK not in conf.read_text():
        return None, f"{conf} belongs to a real cluster: not replaced"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(
        f"{MARK}\n"
        + "\n".join(
            [
                "ClusterName=seqsal",
                "SlurmctldHost=localhost",
                "SlurmUser=root",
                "SlurmdUser=root",
                "AuthType=auth/munge",
                f"StateSaveLocation={folder / 'state'}",
                f"SlurmdSpoolDir={folder / 'spool'}",
                f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
                f"SlurmdPidFile={folder / 'slurmd.pid'}",
                f"SlurmctldLogFile={folder / 'log' / 'slurmctld.log'}",
                f"SlurmdLogFile={folder / 'log' / 'slurmd.log'}",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "AccountingStorageType=accounting_storage/none",
                "JobAcctGatherType=jobacct_gather/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core_Memory",
                "MinJobAge=3600",  # finished jobs stay visible to squeue (no sacct here)
                "ReturnToService=2",
                f"NodeName=localhost CPUs={os.cpu_count()} RealMemory=16000 State=UNKNOWN",
                "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
                "",
            ]
        )
    )
    env = dict(os.environ, SLURM_CONF=str(conf))
    subprocess.run(["slurmctld", "-f", str(conf)], env=env, capture_output=True)
    subprocess.run(["slurmd", "-f", str(conf), "-N", "localhost"], env=env, capture_output=True)
    for _ in range(60):
        state = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True)
        if state.stdout.strip() == "idle":
            return env, None
        time.sleep(0.5)
    return (
        None,
        f"the SLURM node did not come up: {(folder / 'log' / 'slurmctld.log').read_text()[-300:]}",
    )


@pytest.fixture
def slurm(tmp_path):
    env, reason = _start_slurm(tmp_path / "slurm")
    if env is None:
        pytest.skip(reason)
    yield env
    for daemon in ("slurmd", "slurmctld"):
        pid_file = tmp_path / "slurm" / f"{daemon}.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
    Path("/etc/slurm/slurm.conf").unlink()


def test_the_workflow_runs_on_slurm_as_it_runs_locally(reference, slurm, tmp_path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    command, env = snakemake_command(
        workdir,
        "--profile",
        str(ROOT / "config" / "profiles" / "slurm"),
        "--default-resources",
        "slurm_partition=debug",
        "--slurm-no-account",
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "1",
        "--latency-wait",
        "5",
        "--jobs",
        "4",
        config=tiny(150, reference / "train/model.pt"),
    )
    env["SLURM_CONF"] = slurm["SLURM_CONF"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    # every job went through SLURM: the controller completed one batch job per rule job
    log = (tmp_path / "slurm" / "log" / "slurmctld.log").read_text()
    completed = re.findall(r"_job_complete: JobId=\d+ done", log)
    n_jobs = len(list((workdir / "results" / "benchmarks").rglob("*.tsv")))  # one per job
    assert len(completed) >= n_jobs >= 12
    assert_same_results(workdir / "results", reference)
