"""Real faults for tests: another process holding the warehouse lock, the CLI in a
subprocess (with resource limits, or signalled when it prints a marker), small file systems."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from signaffect.core.settings import PROJECT_DIR

CLI = [sys.executable, str(PROJECT_DIR / "cli.py")]


@contextmanager
def lock_held(db: Path) -> Iterator[int]:
    """Another process holds `db` open for writing until the block ends; yields its pid."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
         "sys.stdin.read()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder.pid
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)


def limits(fsize: int | None = None, address_space: int | None = None) -> Callable[[], None]:
    """A preexec_fn setting RLIMIT_FSIZE / RLIMIT_AS in the child (and ignoring SIGXFSZ, so
    a write past the limit fails with EFBIG instead of killing the process)."""

    def apply() -> None:
        import signal

        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        if address_space is not None:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return apply


def run_cli(
    args: list[str],
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`cli.py ARGS` in a fresh process, stdout and stderr captured."""
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=PROJECT_DIR,
        env={**os.environ, **(env or {})}, preexec_fn=preexec_fn, timeout=timeout,
    )


@contextmanager
def stopped_at(
    args: list[str], point: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """Run `cli.py ARGS` until it reaches failpoint `point` (see signaffect.core.failpoints) and
    yield the waiting process: signal it, or inject a fault and call `resume`. The block
    must end with the process finished (`finish` collects its output)."""
    proc = subprocess.Popen(
        [*CLI, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=PROJECT_DIR,
        env={**os.environ, **(env or {}), "SIGNAFFECT_FAILPOINT": point},
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.strip() == f"failpoint {point}":
            break
    else:
        proc.wait()
        raise AssertionError(f"cli.py {' '.join(args)} ended before failpoint {point}")
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def resume(proc: subprocess.Popen[str]) -> None:
    """Let a process stopped at a failpoint go on."""
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()


def finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    """Wait for the process; its exit code and the rest of its output."""
    stdout, stderr = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def can_mount() -> bool:
    """Whether this process may mount a tmpfs (root in most CI containers)."""
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path` for the block."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def remount_read_only(path: Path) -> None:
    """Make the tmpfs at `path` read-only."""
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
