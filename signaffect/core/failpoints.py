"""Named points where a test can stop the process to inject a real fault at a known moment.

With env SIGNAFFECT_FAILPOINT=<name>, the process writes `failpoint <name>` on stderr when
it reaches that point and waits for a line on stdin before going on; meanwhile the test
sends SIGINT or SIGKILL, or takes the warehouse lock. Unset (always, outside tests), a
failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import sys

ENV = "SIGNAFFECT_FAILPOINT"


def failpoint(name: str) -> None:
    """Stop at `name` if the environment asks for it (see the module docstring)."""
    if os.environ.get(ENV) != name:
        return
    sys.stderr.write(f"failpoint {name}\n")
    sys.stderr.flush()
    sys.stdin.readline()
