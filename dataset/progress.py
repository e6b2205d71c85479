"""Progress of long work (training epochs, evaluations, samples): a tqdm bar on a terminal, log lines elsewhere.

    with Progress(total=500, desc="training evp-k1", unit="epoch") as bar:
        for epoch in ...:
            ...
            bar.update()

On a terminal (``sys.stderr.isatty()``) a tqdm bar is drawn on stderr, and the project's log lines (loggers under
"rno-factory") are printed above it rather than through it. Elsewhere (Snakemake job logs, pipes) there is no bar:
a line "<desc>: 30 % (150/500 epoch) in 12.3 s, about 28.7 s left" goes to ``log`` each time the work crosses
another ``every`` (default 10 %) of ``total``, and at the end. ``dataset`` imports nothing of the project, so
producers, learners and the workflow share this one helper.
"""
from __future__ import annotations

import contextlib
import logging
import math
import sys
import time as _time
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

#: the fraction of the total between two log lines off a terminal
EVERY = 0.1
_LOG = logging.getLogger("rno-factory")


def on_terminal(stream=None) -> bool:
    """Whether ``stream`` (default sys.stderr) is a terminal; False for a closed or odd stream."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _console_loggers() -> list[logging.Logger]:
    """The root logger and the "rno-factory" loggers that print to stderr or stdout themselves (redirecting one
    without handlers would print its records twice: once itself, once through its parent)."""
    names = ["rno-factory", *sorted(n for n in logging.root.manager.loggerDict if n.startswith("rno-factory."))]
    loggers = [logging.getLogger(), *map(logging.getLogger, names)]
    return [lg for lg in loggers if any(type(h) is logging.StreamHandler and h.stream in (sys.stderr, sys.stdout)
                                        for h in lg.handlers)]


class Progress:
    """Progress over ``total`` units of work named ``desc``: a bar on a terminal, else a log line per ``every``.

    bar: True/False forces the mode (default: on_terminal()); log: the logger of the lines (default "rno-factory");
    every: fraction of total between lines (0 < every <= 1). update(n) advances by n units; close() (or leaving the
    with block) ends the bar, or logs the last line if the end was not reached by update.
    """

    def __init__(self, total: int, desc: str, *, unit: str = "it", bar: bool | None = None,
                 log: logging.Logger | None = None, every: float = EVERY):
        if not 0 < every <= 1:
            raise ValueError(f"every must be in (0, 1], got {every}")
        self.total, self.desc, self.unit, self.every = max(int(total), 0), desc, unit, float(every)
        self.log = log or _LOG
        self.n = 0
        self.start = _time.perf_counter()
        self._next = 1  # index of the next multiple of every to log at
        self._closed = False
        self._redirect = contextlib.ExitStack()
        self._bar = None
        if on_terminal() if bar is None else bar:
            from tqdm.auto import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm

            self._redirect.enter_context(logging_redirect_tqdm(_console_loggers()))
            self._bar = tqdm(total=self.total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` units (a log line when a multiple of ``every`` of the total is crossed)."""
        self.n += int(n)
        if self._bar is not None:
            self._bar.update(n)
            return
        if self.total <= 0:
            return
        fraction = self.n / self.total
        if fraction + 1e-12 >= self._next * self.every or self.n >= self.total:
            self._line()
            self._next = math.floor(fraction / self.every + 1e-9) + 1

    def _line(self) -> None:
        elapsed = _time.perf_counter() - self.start
        left = ""
        if 0 < self.n < self.total:
            left = f", about {elapsed * (self.total - self.n) / self.n:.1f} s left"
        self.log.info("%s: %d %% (%d/%d %s) in %.1f s%s", self.desc, math.floor(100 * self.n / self.total + 1e-9),
                      self.n, self.total, self.unit, elapsed, left)

    def close(self) -> None:
        """End the bar; off a terminal, log the position reached unless its line was already written."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
            self._redirect.close()
        elif self.total > 0 and self.n < self.total and self.n > 0:
            self._line()


def progress(iterable: Iterable[T], desc: str, *, total: int | None = None, unit: str = "it",
             bar: bool | None = None, log: logging.Logger | None = None, every: float = EVERY) -> Iterator[T]:
    """Yield the items of ``iterable`` while reporting progress (Progress); total: default len(iterable)."""
    if total is None:
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, desc, unit=unit, bar=bar, log=log, every=every) as p:
        for item in iterable:
            yield item
            p.update()
