"""`make run`: Snakemake on the project, recovering by itself from a run that was killed.

A run stopped by ``kill -9`` (or a crash, or a lost terminal) leaves Snakemake's lock in .snakemake/locks, and the
next run stops at "Directory cannot be locked" until ``--unlock``. This entry point unlocks first when the lock is
stale, i.e. when no other Snakemake process runs in the project directory, says so, then runs Snakemake with the
arguments given (``--rerun-incomplete`` in the Makefile reruns the jobs the killed run left half done):

    python -m pipeline.run --cores all --rerun-incomplete [snakemake arguments]
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def snakemake_processes(root: Path, exclude: set[int]) -> list[int]:
    """PIDs of the Snakemake processes (not their jobs) whose working directory is ``root`` (Linux /proc)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        pid = int(proc.name)
        if pid in exclude:
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = Path(os.readlink(proc / "cwd"))
        except OSError:  # gone, or not ours to read
            continue
        # the main process: .../bin/snakemake ... or python -m snakemake ...; jobs run "python -m snakemake ...
        # --mode subprocess" and scripts, which hold no lock of their own
        names = [Path(a.decode(errors="replace")).name for a in argv[:3]]
        if "snakemake" in names and b"subprocess" not in argv and cwd == root:
            found.append(pid)
    return found


def stale_lock(root: Path) -> bool:
    """True when .snakemake/locks holds a lock and no Snakemake process runs in ``root``."""
    locks = root / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return False
    if not Path("/proc").is_dir():  # cannot tell: leave the lock to Snakemake's own message
        return False
    return not snakemake_processes(root.resolve(), exclude={os.getpid(), os.getppid()})


def snakemake_command() -> list[str]:
    return [sys.executable, "-m", "snakemake"]


#: Options that say which workflow and which directory a run is about: --unlock needs the same ones.
WORKFLOW_OPTIONS = ("--snakefile", "-s", "--directory", "-d", "--configfile", "--configfiles", "--config", "-C")


def workflow_options(argv: list[str]) -> list[str]:
    """The WORKFLOW_OPTIONS in ``argv`` with their values (``--opt value ...`` or ``--opt=value``)."""
    out, take = [], False
    for arg in argv:
        if arg.split("=")[0] in WORKFLOW_OPTIONS:
            out.append(arg)
            take = "=" not in arg
        elif take and not arg.startswith("-"):
            out.append(arg)
        else:
            take = False
    return out


def run_directory(argv: list[str]) -> Path:
    """The directory the run works in: --directory / -d, else the current one."""
    options = workflow_options(argv)
    for i, arg in enumerate(options):
        if arg.split("=")[0] in ("--directory", "-d"):
            return Path(arg.split("=", 1)[1] if "=" in arg else options[i + 1]).resolve()
    return Path.cwd().resolve()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    root = run_directory(argv)
    if stale_lock(root):
        print(f"rno-factory: {root}/.snakemake/locks holds the lock of a run that no longer runs (killed?); no other "
              "Snakemake process runs here, so unlocking (snakemake --unlock) and resuming with --rerun-incomplete",
              file=sys.stderr, flush=True)
        subprocess.run([*snakemake_command(), "--unlock", *workflow_options(argv)], check=True,
                       stdout=subprocess.DEVNULL)
    return subprocess.call([*snakemake_command(), *argv])


if __name__ == "__main__":
    sys.exit(main())
