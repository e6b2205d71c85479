"""Logging for workflow jobs: messages go to the job's log file and to stderr, errors with their traceback."""
from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path


@contextlib.contextmanager
def job_logging(log_path: str | os.PathLike | None, name: str = "rno-factory"):
    """Log to ``log_path`` and stderr inside the block; an exception is logged in full, then re-raised."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    handlers = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    for h in handlers:
        h.setFormatter(fmt)
        logger.addHandler(h)
    try:
        yield logger
    except Exception as err:
        logger.error("%s: %s", type(err).__name__, err, exc_info=True)
        raise
    finally:
        for h in handlers:
            logger.removeHandler(h)
            h.close()
