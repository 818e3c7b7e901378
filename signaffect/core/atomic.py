"""Files and folders that appear whole or not at all: written under a temporary name beside
the target, renamed onto it once complete.

Why: a full disk, a memory error or Ctrl-C halfway through a write must never leave a
truncated report, a partial export or half a model where a user (or the next command) will
take it for the real thing. A rename within one folder is atomic; the temporary names are
hidden (`.<name>.<pid>.<random>.tmp`), and those a killed process left are removed by the
next write to the same target.

- `atomic_path(path)`: one file; yields the temporary path to write (by any library).
- `write_bytes_atomic` / `write_text_atomic`: the common case of `atomic_path`.
- `atomic_files(folder)`: several files that replace their namesakes in `folder` together
  (other files there are left alone).
- `atomic_dir(path)`: a whole folder, staged beside `path`, then renamed onto it (replacing
  an earlier folder only with `replace=True`); `staging_dir` and `commit_dir` are its two
  halves, for a folder filled across several steps (a training run's model, then metrics).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TMP_SUFFIX = ".tmp"


def _temp_name(target: Path) -> Path:
    """A fresh hidden name beside `target`: `.<name>.<pid>.<random>.tmp`."""
    return target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}"


def _new_file(target: Path) -> Path:
    """Create an empty temporary file for `target`, with the permissions a plain write would
    give (the umask's, not tempfile's owner-only)."""
    while True:
        temp = _temp_name(target)
        try:
            os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return temp
        except FileExistsError:
            continue


def _new_dir(target: Path) -> Path:
    """Create an empty temporary folder for `target` (umask permissions, as `mkdir`)."""
    while True:
        temp = _temp_name(target)
        try:
            temp.mkdir()
            return temp
        except FileExistsError:
            continue


#: A temporary name of this module: `.<target name>.<pid>.<random>.tmp`.
_TEMP_NAME = re.compile(rf"^\..+\.(\d+)\.[^.]+(?:\.old)?{re.escape(TMP_SUFFIX)}$")


def remove_leftovers(target: Path) -> None:
    """Delete the temporary files or folders that killed writers left beside `target`
    (their process is gone; any target in that folder, e.g. an earlier run's); a running
    writer's are left alone."""
    if not target.parent.is_dir():
        return
    for sibling in target.parent.iterdir():
        match = _TEMP_NAME.match(sibling.name)
        if match is None or _process_alive(int(match.group(1))):
            continue
        if sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            sibling.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process's own writes (e.g. the other files of one batch)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block ends without error it is renamed
    onto `path` (replacing it), otherwise removed. The folder must exist."""
    path = Path(path)
    remove_leftovers(path)
    temp = _new_file(path)
    try:
        yield temp
        _flush(temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all; return `path`."""
    with atomic_path(path) as temp:
        temp.write_bytes(data)
    return path


def write_text_atomic(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` whole or not at all; return `path`."""
    return write_bytes_atomic(path, text.encode(encoding))


class FileSet:
    """The files of one `atomic_files` block: each written to a temporary name until the
    block ends."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pending: dict[Path, Path] = {}  # target → temporary file

    def path(self, name: str) -> Path:
        """A temporary path to write `name` to (by any library)."""
        target = self.folder / name
        remove_leftovers(target)
        temp = _new_file(target)
        self.pending[target] = temp
        return temp

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Stage `data` as `name`; return the path it will have."""
        self.path(name).write_bytes(data)
        return self.folder / name

    def write_text(self, name: str, text: str, encoding: str = "utf-8") -> Path:
        """Stage `text` as `name`; return the path it will have."""
        return self.write_bytes(name, text.encode(encoding))


@contextmanager
def atomic_files(folder: Path) -> Iterator[FileSet]:
    """Stage several files for `folder` (created if missing); when the block ends without
    error they are renamed onto their names, otherwise removed (with the folder, if this
    block created it)."""
    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    files = FileSet(folder)
    try:
        yield files
        for temp in files.pending.values():
            _flush(temp)
        for target, temp in files.pending.items():
            os.replace(temp, target)
    except BaseException:
        for temp in files.pending.values():
            temp.unlink(missing_ok=True)
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def staging_dir(path: Path) -> Path:
    """A new, empty hidden folder beside `path` (created with its parents), to fill and then
    `commit_dir` onto `path`; a caller that fails before must remove it (`shutil.rmtree`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    return _new_dir(path)


def commit_dir(staging: Path, path: Path, *, replace: bool = False) -> None:
    """`staging` becomes `path`, its files flushed to disk first (so a full disk shows now);
    an existing `path` is replaced (removed after the swap) only with `replace`, else
    FileExistsError. On any error `staging` is removed."""
    try:
        for file in sorted(p for p in staging.rglob("*") if p.is_file()):
            _flush(file)
        old = None
        if path.exists():
            if not replace:
                raise FileExistsError(f"{path} exists")
            old = staging.with_name(f"{staging.name[: -len(TMP_SUFFIX)]}.old{TMP_SUFFIX}")
            path.rename(old)
        staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_dir(path: Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield a new, empty hidden folder beside `path`; when the block ends without error it
    becomes `path` (see `commit_dir`), otherwise it is removed."""
    staging = staging_dir(path)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    commit_dir(staging, Path(path), replace=replace)


def _flush(path: Path) -> None:
    """Push a finished temporary file to disk, so a full disk shows now, not after the rename."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
