"""A description of the machine a benchmark ran on (saved with every result)."""
from __future__ import annotations

import os
import platform

import torch


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe(device: torch.device) -> dict:
    """CPU model, cores, threads, torch version, device (GPU name when CUDA), load average (other work)."""
    info = {"cpu": cpu_model(), "cpu_count": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
            "torch_threads": torch.get_num_threads(), "torch": torch.__version__, "python": platform.python_version(),
            "machine": platform.machine(), "device": str(device),
            "load_average_1min_at_start": os.getloadavg()[0]}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info
