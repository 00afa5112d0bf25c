"""Fan-out locally: the same planner, worker and drain code as on AWS, with the workers as
threads in this process, each with its own queue and bucket connection (as separate Lambdas
have their own clients), polling the SQLite queue until the run has been handed to the WAP."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from glue_jobs.ports.storage import Storage
from ingestion.fanout import records
from ingestion.fanout.drain import Finished, drain_state
from ingestion.fanout.worker import VISIBILITY_TIMEOUT_S, Handled, Worker, handle

log = logging.getLogger(__name__)


@dataclass
class InProcessResult:
    handled: list[Handled] = field(default_factory=list)
    finished: Finished | None = None
    stalled: str | None = None  # why the workers stopped without a drained run


def run_workers(storage: Storage, plan: records.Plan, *, open_worker: Callable[[], Worker], workers: int,
                finish: Callable[[Worker], Finished | None], sleep: Callable[[float], None],
                idle_poll_s: float = 1.0, progress: Callable[[Handled, int, int], None] | None = None,
                max_idle_polls: int = 100_000) -> InProcessResult:
    """Run `workers` threads until the run is started (or nothing is left that could finish it).
    `finish(worker)` is the drain check each worker makes after every message and when idle."""
    result = InProcessResult()
    lock = threading.Lock()
    errors: list[BaseException] = []
    started = records.started_key(plan.run_id)

    def loop() -> None:
        try:
            worker = open_worker()
        except BaseException as exc:  # a worker that cannot start stops the run, as one that fails
            errors.append(exc)
            return
        idle = 0
        try:
            while not storage.exists(started) and not errors:
                messages = worker.queue.receive(1, visibility_timeout=VISIBILITY_TIMEOUT_S)
                if messages:
                    idle = 0
                    handled = handle(worker, messages[0])
                    with lock:
                        result.handled.append(handled)
                        settled = sum(h.outcome is not None for h in result.handled)
                    if progress is not None:
                        progress(handled, settled, len(plan.symbols))
                else:
                    idle += 1
                done = finish(worker)
                if done is not None:
                    with lock:
                        result.finished = done
                    return
                if not messages:
                    state = drain_state(storage, worker.queue, plan)
                    if state.visible + state.in_flight == 0 and state.settled < state.planned:
                        with lock:
                            result.stalled = (f"the queue is empty but {state.planned - state.settled} of "
                                              f"{state.planned} symbols have no outcome")
                        return
                    if idle > max_idle_polls:
                        with lock:
                            result.stalled = f"no message for {idle} polls"
                        return
                    sleep(idle_poll_s)
        except BaseException as exc:  # surfaced in the caller's thread
            errors.append(exc)
        finally:
            _close(worker)

    threads = [threading.Thread(target=loop, name=f"fanout-worker-{n}", daemon=True) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return result


def _close(worker: Worker) -> None:
    for part in (worker.queue, worker.dead_letters, worker.bucket):
        close: Any = getattr(part, "close", None)
        if close is not None:
            close()
