"""The layers of the project, enforced: each package imports only the packages below it.

    pipeline/            the workflow layer: may import everything
    deploy/              exports trained networks and the Johnson-Cook law to FE codes: learning/, mechanics/
    macroscale/          explicit impact dynamics with any Material: mechanics/ only (an RNO comes from the caller)
    learning/            imports dataset/ only (it reads stores)
    fullfield/, taylor/  the producers: dataset/ and mechanics/, never learning/ nor each other
    mechanics/           shared mechanics: nothing of the project
    dataset/             the data contract: nothing of the project

checked twice: statically, from every import statement (also those inside functions), and by importing.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.sources import PACKAGES, ROOT, _imports

ALLOWED = {
    "dataset": {"dataset"},
    "mechanics": {"mechanics"},
    "fullfield": {"fullfield", "dataset", "mechanics"},
    "taylor": {"taylor", "dataset", "mechanics"},
    "learning": {"learning", "dataset"},
    "deploy": {"deploy", "learning", "dataset", "mechanics"},
    "macroscale": {"macroscale", "mechanics"},
    "pipeline": set(PACKAGES),
}


def project_imports(package: str) -> dict[str, set[str]]:
    """file -> the project packages it imports."""
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = {n.split(".")[0] for n in _imports(path, ROOT)}
        out[str(path.relative_to(ROOT))] = names & set(PACKAGES)
    return out


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_import_statements_go_downwards(package):
    if not (ROOT / package).is_dir():
        pytest.skip(f"no package {package}")
    wrong = {f: sorted(names - ALLOWED[package]) for f, names in project_imports(package).items()
             if names - ALLOWED[package]}
    assert not wrong, f"{package}/ imports above its layer: {wrong}"


def loaded_after(code: str) -> dict:
    """Project packages, producers and heavy libraries in sys.modules after running ``code`` in a fresh interpreter."""
    probe = code + (
        "\nimport json, sys\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(PACKAGES) | {'torch', 'numba', 'damask', 'snakemake'}!r})))")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(run.stdout.splitlines()[-1]))


def test_dataset_imports_nothing_of_the_project_when_loaded():
    code = "import pkgutil, importlib, dataset\n" \
           "[importlib.import_module(m.name) for m in pkgutil.walk_packages(dataset.__path__, 'dataset.')]"
    assert loaded_after(code) == {"dataset"}


def test_learning_loads_only_dataset():
    code = "import pkgutil, importlib, learning\n" \
           "[importlib.import_module(m.name) for m in pkgutil.walk_packages(learning.__path__, 'learning.')]"
    assert loaded_after(code) - {"torch", "numba"} == {"learning", "dataset"}


def test_validating_a_config_imports_no_producer_and_no_learning():
    loaded = loaded_after("from pipeline.config import load\nload('config.yaml')\nload('config.paper.yaml')")
    assert loaded == {"pipeline", "dataset"}, loaded
