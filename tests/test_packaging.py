"""The conda environment for cluster users lists the same packages as pyproject.toml."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names of PyPI packages; system-provided ones (from Debian or conda, never from PyPI) on the right
CONDA_NAME = {"torch": "pytorch", "matplotlib": "matplotlib-base"}
SYSTEM_ONLY = {"python", "pip", "petsc4py", "mpi4py", "openmpi", "c-compiler", "fortran-compiler"}  # compilers: docs/export.md


def name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {CONDA_NAME.get(name(r), name(r)) for r in reqs}


def conda_packages(path):
    deps = yaml.safe_load(path.read_text())["dependencies"]
    names = set()
    for d in deps:
        names |= {name(p) for p in d["pip"]} if isinstance(d, dict) else {name(d)}
    return names - SYSTEM_ONLY


def test_conda_env_lists_the_pyproject_packages():
    envs = sorted((ROOT / "envs").glob("*.yml"))
    assert envs
    for env in envs:
        assert conda_packages(env) == pyproject_packages(), env.name


def test_conda_env_provides_petsc_and_mpi():
    deps = yaml.safe_load((ROOT / "envs" / "rno-factory.yml").read_text())["dependencies"]
    names = {name(d) for d in deps if isinstance(d, str)}
    assert {"petsc4py", "mpi4py", "openmpi"} <= names
