"""The web application with the worker inside it: what ``opsdesk run`` (``make run``) serves.

One process then holds Django once for both, instead of a web process and a worker process
holding it twice (~90 MB each: bench/README.md, *Memory*). The worker's threads (task queue,
dispatcher, periodic jobs, heartbeat; runtime/worker.py) start when Granian loads this module
in its worker process and stop when that process ends; Granian starts the process again should
it die, and the supervisor Granian (runtime/supervise.py). Production runs ``opsdesk serve``
and ``opsdesk worker`` apart, so that each can be restarted, scaled and limited alone.
"""

import atexit
from collections.abc import Callable
from multiprocessing import util

from opsdesk.runtime.wsgi import application


def start_worker() -> Callable[[], None]:
    # Imported here, once the import above has set Django up: the worker's modules use models.
    from opsdesk.runtime import worker

    return worker.start_in_background()


stop_worker = start_worker()
# Granian's worker processes end through multiprocessing, which runs its own finalisers but
# not atexit's; a process started otherwise (a test) runs atexit's. Stopping twice is a no-op.
util.Finalize(None, stop_worker, exitpriority=10)
atexit.register(stop_worker)

__all__ = ["application"]
