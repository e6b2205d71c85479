"""A throw-away single-node SLURM on localhost for the tests (Debian's slurm-wlm 22.05 and munge).

    with local_slurm(tmp_dir, cpus=2) as cluster:   # raises SlurmUnavailable with the reason
        subprocess.run(["sbatch", ...])

munged, slurmctld and slurmd are started with state, spool, pid and log files under ``tmp_dir``; the
config has to live at /etc/slurm/slurm.conf (the Snakemake SLURM plugin's job step drops SLURM_CONF from
the environment), so an existing one is moved aside and put back afterwards. Every daemon started here
is stopped by its own PID on exit, and nothing else is touched.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MUNGE_KEY = Path("/etc/munge/munge.key")
PARTITION = "debug"


class SlurmUnavailable(RuntimeError):
    """The local SLURM could not be started; the message says why (the tests skip with it)."""


@dataclass
class Cluster:
    root: Path
    host: str
    cpus: int
    partition: str = PARTITION
    pids: dict[str, int] = field(default_factory=dict)

    def log(self, name: str) -> str:
        p = self.root / "log" / f"{name}.log"
        return p.read_text(errors="replace") if p.exists() else ""


def _which(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        raise SlurmUnavailable(f"not installed: {', '.join(missing)} (bash envs/setup.sh installs slurm-wlm, munge)")


def _conf(root: Path, host: str, cpus: int, mem_mb: int) -> str:
    return f"""# written by tests/slurm_harness.py; removed when the test ends
ClusterName=rnotest
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
MinJobAge=300
ReturnToService=2
SlurmdParameters=config_overrides
MpiDefault=none
SchedulerType=sched/backfill
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path: Path, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError, ValueError):
            pid = int(path.read_text().split()[0])
            if _alive(pid):
                return pid
        time.sleep(0.1)
    raise SlurmUnavailable(f"no live PID in {path} after {timeout:.0f} s")


def _stop(*pids: int, timeout: float = 15.0) -> None:
    """SIGTERM the given daemons, wait for them to exit, SIGKILL what is left after ``timeout``."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _memory_mb() -> int:
    with open("/proc/meminfo") as f:
        total_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    return max(1000, int(total_kb / 1024 * 0.8))


def _node_state(host: str) -> str:
    out = subprocess.run(["sinfo", "-h", "-N", "-n", host, "-o", "%T"], capture_output=True, text=True, timeout=10)
    return out.stdout.strip()


@contextlib.contextmanager
def local_slurm(root: str | os.PathLike, cpus: int | None = None, timeout: float = 30.0):
    """Run munged + slurmctld + slurmd for the duration of the block; yields a Cluster.

    ``cpus`` is what the node advertises (default: the machine's); more than the machine has is accepted
    (SlurmdParameters=config_overrides), e.g. to fit two 2-task MPI jobs side by side on a 2-core runner.
    """
    if os.geteuid() != 0:
        raise SlurmUnavailable("needs root (slurmd, munged as the munge user, /etc/slurm/slurm.conf)")
    _which("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol")
    root = Path(root)
    for d in ("state", "spool", "run", "log"):
        (root / d).mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().split(".")[0]
    cpus = cpus or os.cpu_count() or 1
    cluster = Cluster(root=root, host=host, cpus=cpus)
    backup = munge_dir = None
    started: list[int] = []
    try:
        # munge: our own socket, key and pid file, run as the munge user
        if not MUNGE_KEY.exists():
            raise SlurmUnavailable(f"{MUNGE_KEY} missing (the munge package creates it)")
        # the munge user must reach its files: pytest's tmp dirs are root-only, /tmp is not
        munge_dir = Path(tempfile.mkdtemp(prefix="rnotest-munge-"))
        shutil.chown(munge_dir, "munge", "munge")
        socket_path = Path("/run/munge/munge.socket.2")  # slurm's auth/munge talks to the default socket
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        if socket_path.exists() and subprocess.run(["munge", "-n"], capture_output=True, timeout=10).returncode == 0:
            pass  # a munged is already serving the default socket (not ours: leave it alone)
        else:
            run = subprocess.run(["runuser", "-u", "munge", "--", "munged", "--force",
                                  f"--pid-file={munge_dir}/munged.pid", f"--log-file={munge_dir}/munged.log",
                                  f"--seed-file={munge_dir}/munged.seed"],
                                 capture_output=True, text=True, timeout=20)
            if run.returncode != 0:
                raise SlurmUnavailable(f"munged failed to start: {run.stderr.strip() or run.stdout.strip()}")
            pid = _read_pid(munge_dir / "munged.pid")
            started.append(pid)
            cluster.pids["munged"] = pid

        # slurm.conf at the fixed path, the old one kept aside
        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        if SLURM_CONF.exists() or SLURM_CONF.is_symlink():
            backup = SLURM_CONF.with_name(f"slurm.conf.rnotest-backup-{os.getpid()}")
            os.rename(SLURM_CONF, backup)
        SLURM_CONF.write_text(_conf(root, host, cpus, _memory_mb()))

        for name, args in (("slurmctld", ["slurmctld", "-i"]), ("slurmd", ["slurmd"])):
            run = subprocess.run(args, capture_output=True, text=True, timeout=30)
            if run.returncode != 0:
                raise SlurmUnavailable(f"{name} failed to start (rc {run.returncode}): "
                                       f"{(run.stderr or run.stdout).strip()}\n{cluster.log(name)[-2000:]}")
            pid = _read_pid(root / "run" / f"{name}.pid")
            started.append(pid)
            cluster.pids[name] = pid

        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = _node_state(host)
            if state in ("idle", "mixed", "allocated"):
                break
            time.sleep(0.3)
        else:
            raise SlurmUnavailable(f"node {host} not idle after {timeout:.0f} s (state {state!r})\n"
                                   f"{cluster.log('slurmctld')[-2000:]}\n{cluster.log('slurmd')[-2000:]}")
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            if cluster.pids.get("slurmctld"):
                subprocess.run(["scancel", "--full", "--user", "root"], capture_output=True, timeout=10)
        _stop(*reversed(started))  # slurmd, slurmctld, munged: only what this block started
        if munge_dir is not None:
            shutil.rmtree(munge_dir, ignore_errors=True)
        if backup is not None:
            os.replace(backup, SLURM_CONF)
        elif SLURM_CONF.exists() and "tests/slurm_harness.py" in SLURM_CONF.read_text(errors="replace"):
            SLURM_CONF.unlink()
