"""Output folders checked before the work starts, so a long run never fails at its last step
because `--out` is a file or cannot be written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from signaffect.core.errors import SignAffectError


def check_out_dir(path: Path, option: str = "--out") -> None:
    """Raise SignAffectError unless `path` is (or can be created as) a writable folder.

    Nothing is created: the nearest existing folder must accept a new file, which is tried
    (permission bits say nothing for root or read-only mounts) and removed at once. The hint
    names `option`, the command's option for the folder.
    """
    path = path.expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise SignAffectError(f"{path} is a file, not a folder", f"pass {option} with a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise SignAffectError(
            f"cannot create {path}: {existing} is a file", f"pass {option} with a folder"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".signaffect-probe-", dir=existing)
    except OSError as exc:
        raise SignAffectError(
            f"cannot write in {existing}: {(exc.strerror or str(exc)).lower()}",
            f"pass {option} with a folder you may write",
        ) from None
    os.close(fd)
    os.unlink(probe)
