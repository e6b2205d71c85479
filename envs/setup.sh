#!/usr/bin/env bash
# Idempotent set-up for a Debian 12 machine (the project's CI and laptop default).
#   system: PETSc, petsc4py, mpi4py and OpenMPI from Debian (apt), as root or via sudo;
#   python: .venv from /usr/bin/python3 with --system-site-packages (so it sees petsc4py/mpi4py),
#           then the project (editable) with its pinned dependencies.
# A stamp holding the hash of this script and pyproject.toml makes a second run a no-op.
# Cluster users: see envs/rno-factory.yml (conda-forge) and docs/cluster.md instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.setup-stamp"
want="$(cat "$root/envs/setup.sh" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

# slurm-wlm + munge: the single-node SLURM that tests/test_slurm.py starts (docs/cluster.md)
apt_packages=(python3-venv python3-petsc4py python3-mpi4py libpetsc-real-dev openmpi-bin libopenmpi-dev slurm-wlm munge gfortran gcc)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] installing Debian packages: ${missing[*]}" >&2
  if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "[setup] need root or sudo to install: ${missing[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x "$venv/bin/python" ]]; then
  echo "[setup] creating $venv (system site packages visible)" >&2
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
echo "[setup] installing the project and its pinned dependencies" >&2
pip_log="$venv/pip-install.log"
pip_install() {  # quiet on success; the whole pip log on failure
  if ! "$venv/bin/python" -m pip install "$@" >"$pip_log" 2>&1; then
    cat "$pip_log" >&2; echo "[setup] pip install $* failed (log: $pip_log)" >&2; exit 1
  fi
}
pip_install --upgrade "pip>=23"
pip_install -e "$root[test,cluster]"
"$venv/bin/python" - <<'PY'
import numpy, petsc4py, mpi4py, torch, zarr, xarray, snakemake, damask
from petsc4py import PETSc
assert numpy.__version__.startswith("1."), numpy.__version__
print(f"[setup] numpy {numpy.__version__}, petsc4py {petsc4py.__version__}, mpi4py {mpi4py.__version__}, "
      f"torch {torch.__version__}, zarr {zarr.__version__}, snakemake {snakemake.__version__}")
PY
echo "$want" > "$stamp"
