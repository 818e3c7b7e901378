"""Engines that run work units (FER, face, or both): this process, local processes, or Ray.

Why: every engine calls the same `analyse_unit` and yields `UnitResult`s as units finish, in
any order, so the drivers (pipeline/fer.py, face.py) write the same shards
whichever runs them. A
unit that raises (a bug, a killed worker) is retried, then becomes a failed result with a
one-line reason; an unusable video is not retried (it would fail the same way).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from signaffect.core.errors import SignAffectError
from signaffect.fer_engine.units import UnitResult, WorkUnit, analyse_unit

RETRIES = 2  # extra attempts for a unit that raised or whose worker died


class Engine(Protocol):
    def run(self, units: Sequence[WorkUnit], progress: Any = None) -> Iterator[UnitResult]:
        """Yield each unit's results (one per analysis) as it finishes."""
        ...


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _failed(unit: WorkUnit, exc: BaseException) -> list[UnitResult]:
    """The results of a unit that kept raising: the video is reported as failed."""
    frames = f"frames {unit.start}-{'end' if unit.stop is None else unit.stop - 1}"
    reason = f"{unit.path}: {frames} failed {RETRIES + 1} times: {one_line(exc)}"
    return [UnitResult(part, None, reason, 0.0) for part in unit.parts]


class LocalEngine:
    """One unit at a time in this process (workers=1, on threads over all cores), or
    `workers` processes, each one core, the models loaded once per process."""

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers

    def run(self, units: Sequence[WorkUnit], progress: Any = None) -> Iterator[UnitResult]:
        if self.workers == 1:
            for unit in units:
                yield from self._in_process(unit, progress)
        else:
            yield from self._in_processes(units)

    @staticmethod
    def _in_process(unit: WorkUnit, progress: Any) -> list[UnitResult]:
        attempt = 0
        while True:
            try:
                return analyse_unit(unit, threads=None, progress=progress)
            except Exception as exc:
                attempt += 1
                if attempt > RETRIES:
                    return _failed(unit, exc)

    def _in_processes(self, units: Sequence[WorkUnit]) -> Iterator[UnitResult]:
        # spawn, not fork: the driver holds a DuckDB connection and threads.
        context = multiprocessing.get_context("spawn")

        def new_pool() -> ProcessPoolExecutor:
            return ProcessPoolExecutor(self.workers, context)

        pool = new_pool()
        queue = [(unit, 0) for unit in reversed(units)]
        running: dict[Future[list[UnitResult]], tuple[WorkUnit, int]] = {}
        try:
            while queue or running:
                while queue and len(running) < 2 * self.workers:
                    unit, attempt = queue.pop()
                    running[pool.submit(analyse_unit, unit)] = (unit, attempt)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken: list[tuple[WorkUnit, int, BaseException]] = []
                for future in done:
                    unit, attempt = running.pop(future)
                    try:
                        yield from future.result()
                    except BrokenProcessPool as exc:
                        broken.append((unit, attempt, exc))
                    except Exception as exc:
                        if attempt == RETRIES:
                            yield from _failed(unit, exc)
                        else:
                            queue.append((unit, attempt + 1))
                if broken:  # a worker died: every unit in flight counts an attempt
                    broken += [(u, a, broken[0][2]) for u, a in running.values()]
                    running.clear()
                    pool.shutdown(cancel_futures=True)
                    pool = new_pool()
                    for unit, attempt, error in broken:
                        if attempt == RETRIES:
                            yield from _failed(unit, error)
                        else:
                            queue.append((unit, attempt + 1))
        finally:
            pool.shutdown(cancel_futures=True)


class RayEngine:
    """Units as Ray tasks, one CPU each, on a local Ray (`num_cpus`, default all cores) or
    the cluster at `address`. Each Ray worker process loads the models once (its first
    unit) and reuses them; Ray retries a task that raised or whose worker died."""

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise SignAffectError(
                "--engine ray needs Ray, which is not installed",
                "install the scale extra (scripts/setup_venv.sh does) or use --engine local",
            ) from None
        self._ray = ray
        self.address = address
        self.num_cpus = num_cpus

    def run(self, units: Sequence[WorkUnit], progress: Any = None) -> Iterator[UnitResult]:
        ray = self._ray
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(
                address=self.address,
                num_cpus=None if self.address else self.num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        try:
            task = ray.remote(num_cpus=1, max_retries=RETRIES, retry_exceptions=True)(analyse_unit)
            window = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
            queue = list(reversed(units))
            running: dict[Any, WorkUnit] = {}
            while queue or running:
                while queue and len(running) < window:  # bounded: results wait in memory
                    unit = queue.pop()
                    running[task.remote(unit)] = unit
                done, _ = ray.wait(list(running), num_returns=1)
                for ref in done:
                    unit = running.pop(ref)
                    try:
                        yield from ray.get(ref)
                    except Exception as exc:  # retries exhausted; report the task's own error
                        yield from _failed(unit, getattr(exc, "cause", None) or exc)
        finally:
            if started_here:
                ray.shutdown()
