"""What a process loads once and keeps for its whole life, kept out of the garbage
collector's way.

The command line loads its commands (pandas, pydantic, numpy...) and a picture
drawer loads matplotlib; all of that lives as long as the process. Collecting
while it loads only walks it again and again, and every later collection would
walk it once more (a tenth of a second of a small ``pasc run``). So it loads
with the collector paused and is then frozen (``gc.freeze``): later
collections walk only what was made since. This module imports nothing else,
so that it can run before anything heavy loads.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def kept_for_life() -> Iterator[None]:
    """Load what the block imports with the garbage collector paused, then freeze
    everything this process holds (the collector is enabled again if it was)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
