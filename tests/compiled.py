"""Compiling generated C99 and Fortran 2008 sources for the export tests (tests/test_export*.py): the compilers, found
or skipped, and one build line, the README's flags with the standards' warnings as errors."""
import ctypes
import shutil
import subprocess

import pytest

from deploy.export import FLAGS


@pytest.fixture(scope="module")
def compilers():
    """{"gcc": path, "gfortran": path}; the test is skipped when either is missing (envs/setup.sh installs both)."""
    found = {name: shutil.which(name) for name in ("gcc", "gfortran")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not found: the exports are compiled to be tested (envs/setup.sh "
                    "installs them)")
    return found


def build(compilers, sources, lib, lang):
    """Compile sources into the shared library lib with the flags the README recommends; the ctypes handle."""
    if lang == "c":
        cmd = [compilers["gcc"], "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", *FLAGS.split(),
               "-shared", "-fPIC", *map(str, sources), "-o", str(lib), "-lm"]
    else:  # standard conformance as errors (line length, continuation lines)
        cmd = [compilers["gfortran"], "-std=f2008", "-Werror", *FLAGS.split(), "-shared", "-fPIC",
               "-J", str(lib.parent), *map(str, sources), "-o", str(lib)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return ctypes.CDLL(str(lib))
