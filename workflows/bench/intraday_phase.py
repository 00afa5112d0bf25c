"""The intraday consumer's figures (issue 14), on a local lake of the bench's own:

- throughput: `tickerlake stream produce --source synthetic --records N` puts N quotes on the
  lake's stream log, then the consumer drains them end to end (screen, enrich, the quotes
  table's writes, the history's Parquet, alerts) as `tickerlake stream consume` does; records
  per second of wall time, and of the process's CPU time, which a busy machine disturbs less;
- produce -> served latency: a producer process puts quotes on the log in real time at a
  steady rate while the consumer follows the log (`stream consume --follow`, its default
  poll); a record's latency runs from its put (the log's arrival stamp, the clock both
  processes share) to the end of the batch that wrote it into the quotes table (its
  transaction committed). Median and 99th percentile over every record;
- the producer's use of the key's allowance against the fake Alpha Vantage on a simulated
  clock (workflows.bench.producer_sim)."""
from __future__ import annotations

import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from glue_jobs.intraday.consume import POLL_SECONDS
from workflows.bench import producer_sim

SYMBOLS = 100  # the producer's synthetic watchlist: symbols spread over the log's shards
PRODUCER_MINUTES = 10  # simulated: about a second of real time


def intraday(workdir: str, records: int, rate: int, seconds: float) -> dict[str, Any]:
    root = Path(workdir) / "intraday"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    out = {"records": records, "load_before": os.getloadavg()[0]}
    out.update(_throughput(root / "throughput", records))
    out.update(_latency(root / "latency", root / "throughput", rate, seconds))
    out["producer"] = producer_sim.producer_allowance(root / "producer", PRODUCER_MINUTES)
    out["load_after"] = os.getloadavg()[0]
    return out


def _produce(lake: Path, records: int) -> None:
    """`tickerlake stream produce` as a user runs it (a child process: the bench does not import the CLI)."""
    symbols = ",".join(f"S{n:03d}" for n in range(SYMBOLS))
    done = subprocess.run([sys.executable, "-m", "workflows.cli.main", "stream", "produce", "--source", "synthetic",
                           "--symbols", symbols, "--records", str(records), "--interval", "1s", "--lake", str(lake)],
                          capture_output=True, text=True, cwd=str(Path(__file__).resolve().parents[2]))
    if done.returncode != 0:
        raise RuntimeError(f"stream produce exited {done.returncode}: {done.stderr[-2000:]}")


def _consumer(lake: Path) -> Any:
    """The consumer `tickerlake stream consume` builds, on the lake's own stream log."""
    from glue_jobs.intraday import Consumer
    from glue_jobs.runtime import open_runtime
    from workflows.intraday import open_processor

    runtime = open_runtime(str(lake))
    return Consumer(runtime.stream, open_processor(runtime, env=os.environ),
                    runtime.queue_factory("intraday-failures"), batch=1000)


def _throughput(lake: Path, records: int) -> dict[str, Any]:
    _produce(lake, records)
    started = time.perf_counter()
    consumer = _consumer(lake)  # start-up: the runtime, the processor and its warm-up
    startup = time.perf_counter() - started
    waited = _core_wait_seconds()
    wall, cpu = time.perf_counter(), time.process_time()
    result = consumer.drain()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if waited is not None:
        waited = (_core_wait_seconds() or 0.0) - waited
    if result.records != records or result.accepted != records or result.errors:
        raise RuntimeError(f"the drain did not process every record: {result.to_dict()}")
    return {"consumed": result.records, "history_rows": result.history_rows, "served": result.written,
            "consume_seconds": round(wall, 3), "consume_cpu_seconds": round(cpu, 3),
            "consume_core_wait_seconds": None if waited is None else round(waited, 3),
            "startup_seconds": round(startup, 3)}


def _core_wait_seconds() -> float | None:
    """How long this process's thread has been runnable but waiting for a core (Linux's
    /proc/self/schedstat, field 2, in ns): the part of a drain's wall time that other load on
    the machine takes, which its CPU time does not show. None where the kernel does not say."""
    try:
        with open("/proc/self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def _put_paced(lake: str, items: list[tuple[str, bytes]], rate: int) -> None:
    """A producer process: puts `items` on the lake's log at `rate` records a second, in 10 ms slices."""
    from glue_jobs.runtime import open_runtime

    log = open_runtime(lake).stream
    per_slice = max(1, rate // 100)
    started = time.monotonic()
    for n, start in enumerate(range(0, len(items), per_slice)):
        delay = started + n * per_slice / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        log.put_many([(key, data, None) for key, data in items[start:start + per_slice]])
    log.close()


def _latency(lake: Path, source: Path, rate: int, seconds: float) -> dict[str, Any]:
    from glue_jobs.runtime import ENV_STREAM_SHARDS, open_runtime

    # the quotes the throughput run produced, put again on a fresh lake's log as they happen
    wanted = max(1, int(rate * seconds))
    old = open_runtime(str(source)).stream
    shards = old.shards()
    items: list[tuple[str, bytes]] = []
    for shard in shards:
        items += [(r.partition_key, r.data) for r in old.read(shard, None, wanted)]
    old.close()
    items = sorted(items, key=lambda kd: kd[1])[:wanted]  # interleave the symbols again
    # the log exists (with the source's shard count) before the producer and the consumer open it
    open_runtime(str(lake), create=True, env={ENV_STREAM_SHARDS: str(len(shards))}).stream.close()
    consumer = _consumer(lake)
    latencies: list[float] = []
    handle = consumer.processor.handle

    def timed(records: Any) -> Any:
        result = handle(records)
        served_ms = time.time() * 1000
        latencies.extend(served_ms - r.arrival_ms for r in records[:result.processed])
        return result

    consumer.processor.handle = timed
    producer = multiprocessing.get_context("fork").Process(target=_put_paced, args=(str(lake), items, rate))
    producer.start()
    consumed = 0

    def stop() -> bool:
        return consumed >= len(items) or (not producer.is_alive() and producer.exitcode != 0)

    while not stop():
        # the CLI's --follow loop, one drain at a time so the count stops it
        result = consumer.follow(poll_seconds=POLL_SECONDS, stop=_once())
        consumed += result.records
    producer.join()
    if producer.exitcode != 0 or len(latencies) != len(items):
        raise RuntimeError(f"latency run: producer exit {producer.exitcode}, {len(latencies)} of {len(items)} served")
    ordered = sorted(latencies)
    return {"latency_records": len(ordered), "latency_rate": rate, "latency_poll_seconds": POLL_SECONDS,
            "latency_median_ms": round(statistics.median(ordered), 1),
            "latency_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
            "latency_max_ms": round(ordered[-1], 1)}


def _once() -> Any:
    """A stop() for Consumer.follow that lets one drain (and its wait, when it found nothing) run."""
    calls = iter((False, True))
    return lambda: next(calls, True)
