"""Worker processes that end with the command that started them.

``gait2hip benchmark``, ``label --manifest`` and ``simulate cohort`` run their work in process
pools. Killing only the parent (``kill PID``, a closed terminal, a scheduler's time limit) would
otherwise leave the workers running: they keep the CPU busy for hours and race a resumed run for
the same result files. Every pool therefore starts its workers with :func:`exit_with_parent`.
"""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(poll_seconds: float = 1.0) -> None:
    """Pool initializer: end this process as soon as its parent process is gone.

    Parameters
    ----------
    poll_seconds
        How often the parent is looked for.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:  # re-parented: the process that started us has died
                os._exit(1)

    threading.Thread(target=watch, name="gait2hip-exit-with-parent", daemon=True).start()
