"""Validating a config: wall time of a fresh interpreter that imports pipeline.config and validates config.yaml,
and config.yaml with config.paper.yaml (the target: under 1 s, importing no producer), against the bare
interpreter in the same run.

    python benchmarks/bench_config.py      # prints and writes benchmarks/results/config.json
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def validate_code(*configs: str) -> str:
    loads = "".join(f"load({c!r})\n" for c in configs)
    return ("import sys, json\nfrom pipeline.config import load\n" + loads +
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'fullfield', 'taylor', 'learning', 'mechanics', 'torch', 'numba', 'snakemake'})))")


def wall(code: str, repeats: int) -> tuple[list[float], str]:
    times, out = [], ""
    for _ in range(repeats):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout
        times.append(time.perf_counter() - start)
    return times, out


def main(repeats: int = 7) -> dict:
    bare, _ = wall("pass", repeats)
    default, _ = wall(validate_code("config.yaml"), repeats)
    validate, out = wall(validate_code("config.yaml", "config.paper.yaml"), repeats)
    result = {"what": "fresh interpreter: import pipeline.config, validate config.yaml (and config.paper.yaml)",
              "repeats": repeats, "config_yaml_median_s": statistics.median(default),
              "config_yaml_min_s": min(default), "median_s": statistics.median(validate), "min_s": min(validate),
              "bare_interpreter_median_s": statistics.median(bare), "heavy_modules_imported": json.loads(out),
              "target_s": 1.0, "cpu_count": os.cpu_count(), "load_average_1min_at_start": os.getloadavg()[0]}
    print(json.dumps(result, indent=1))
    out_path = ROOT / "benchmarks" / "results" / "config.json"
    out_path.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
