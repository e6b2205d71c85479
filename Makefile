# Two entry points for a newcomer (README): `make run` and `make test`. Both set up on first use (envs/setup.sh).
VENV  := .venv
PY    := $(VENV)/bin/python
CORES ?= all
# OpenMPI refuses to run as root without these (CI and containers run as root).
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_rmaps_base_oversubscribe := 1

.PHONY: setup run test
setup:
	@bash envs/setup.sh

run: setup  ## the whole default DAG on config.yaml; prints where results are; recovers a killed run's stale lock
	$(PY) -m pipeline.run --cores $(CORES) --rerun-incomplete $(ARGS)

test: setup  ## the test suite (pytest, two workers, one test file per worker); extra flags via ARGS, e.g. make test ARGS="-m slow"
	$(PY) -m pytest -n 2 --dist loadfile $(ARGS)
