"""The frame rates a corpus file may have, apart from the parsers: the CLI checks `--fps`
and shows its default at start-up, which must not load pyarrow and the XML parsers."""

from __future__ import annotations

# The frame rates a file may have (--fps, a tier mapping's): video, from time-lapse-slow to
# high-speed; anything outside is a typo that would turn every span into one frame or
# billions of them.
MIN_FPS = 1.0
MAX_FPS = 1000.0
#: DAI 2 XML exports count time in frames and do not state their rate: this one unless --fps.
DEFAULT_FPS = 30.0
