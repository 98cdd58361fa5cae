"""A rich progress bar for sampling, shown only for runs longer than a couple of seconds."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

SHOW_AFTER_SECONDS = 2.0


def interactive() -> bool:
    try:
        from IPython import get_ipython  # noqa: F401

        if get_ipython() is not None:
            return True
    except ImportError:
        pass
    return sys.stderr.isatty()


class SamplingProgress:
    """Callable ``(done, total, warmup)`` for :meth:`CompiledSampler.run`; call ``close()`` at the end."""

    def __init__(self, chains: int, enabled: bool = True, console=None):
        self.chains = chains
        self.enabled = enabled
        self.console = console
        self.started = time.perf_counter()
        self.progress: Progress | None = None  # made when the run has taken long enough to show it
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int, warmup: int) -> None:
        if not self.enabled:
            return
        if self.progress is None:
            if time.perf_counter() - self.started < SHOW_AFTER_SECONDS or done >= total:
                return
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(bar_width=24), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                                     console=self.console or Console(stderr=True), transient=True)
            self.progress.start()
            self.task = self.progress.add_task("", total=total)
        assert self.task is not None  # added with the bar
        phase = "warmup  " if done <= warmup else "sampling"
        self.progress.update(self.task, completed=done, description=f"{self.chains} chains, {phase}")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
