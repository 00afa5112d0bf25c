"""Named failpoints: places in the pipeline where a test can kill, fail or stall a run on
purpose, to prove that a reader never sees a half-published table and that a rerun converges.

Off unless TICKERLAKE_FAILPOINT names a point; the environment is read once per process, so
a disarmed `hit()` is a global lookup and a comparison.

    TICKERLAKE_FAILPOINT=publish.after_data_write   the point to arm
    TICKERLAKE_FAILPOINT_ACTION=kill                kill (SIGKILL this process; the default),
                                                    raise (InjectedFault), or sleep:N (seconds)
    TICKERLAKE_FAILPOINT_HIT=2                      fire on the Nth time the point is reached (1)
    TICKERLAKE_FAILPOINT_MATCH=warehouse/daily_prices/
                                                    only count hits whose detail contains this

Points (detail in brackets; a name with <stage> exists for every stage of workflows.graph):

    runner.before_<stage>          lock held, run log saved, the stage not started   [stage]
    runner.after_<stage>           the stage finished and the run log says so        [stage]
    runner.before_ledger           the run log is closed, the ledger row not written [run id]
    landing.after_object           one raw/rejected/reason object landed             [key]
    landing.before_manifest        every body landed, the manifest not written       [key]
    ingest.before_state            the manifest written, the ingestion state not     [run id]
    fanout.after_claim             a drained fan-out run claimed, its manifest not written [run id]
    drop.after_marker              a dropped file's create-only marker says landing  [marker key]
    drop.after_body                one raw body of a dropped file landed             [key]
    drop.before_landed             the drop's manifest written, its marker not yet landed [marker key]
    engine.before_rename           an engine write's file complete under a temporary
                                   name, not yet under its final one                 [key]
    write_temp.after_data_write    the temporary table's files written, not in the catalog
    audit.after_quarantine_write   a chunk of the temporary quarantine written      [key]
    audit.before_verdict           every chunk audited, the verdict not written      [run id]
    publish.after_data_write       a merged partition written to its fresh location  [table/partition]
    publish.between_partitions     one partition handled, the next not yet written   [table/partition]
    publish.before_switch          every partition written, the catalog not switched [table]
    publish.between_tables         daily_prices switched, the quarantine not yet     [run id]
    migrate.after_data_write       a migrated partition written to its fresh location [table/partition]
    migrate.before_switch          every partition migrated, the catalog not switched [table]
    catalog.before_write           a catalog change about to be written              [db.table]
    catalog.after_write            a catalog change written, not yet returned        [db.table]
    storage.before_replace         a local object's bytes in its temporary file,
                                   os.replace not yet done                           [key]
    after_publish.before_mark      views and hooks done, ingest runs not yet marked published
    serve.after_receive            local sync: a batch received from the queue, nothing written [message id]
    serve.mid_batch                loader: one chunk of a manifest's bars written, the next not [manifest key]
    serve.before_delete            local sync: a message's writes done, the message not deleted [message id]
    serving.before_checkpoint      local serving table: a WAL checkpoint about to run in its own
                                   thread, beside the writes                         [file]
    quotes.before_checkpoint       local quotes table: the same                      [file]
    intraday.before_write          a batch screened and enriched, nothing written    [shard]
    intraday.after_history_file    a batch's history file written, its serving writes not [key]
    intraday.mid_batch             history, alerts and recent quotes written, the current not [shard]
    intraday.before_checkpoint     a batch's effects written, the checkpoint not moved [shard position]
    intraday.compact.after_write   one merged history file written, the day not switched [key]
    intraday.compact.after_switch  the day's partition switched, its batch files not deleted [location]
    run_log.before_write           a run log save about to be written                [run id]
    ledger.after_data_write        a ledger month written, its partition not switched [table]

`catalog.*` points are in both the local and the Glue catalog adapters (partition switches
and table writes); `storage.before_replace` only in the local storage (an S3 PUT has no
half-written state).
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

ENV_POINT = "TICKERLAKE_FAILPOINT"
ENV_ACTION = "TICKERLAKE_FAILPOINT_ACTION"
ENV_HIT = "TICKERLAKE_FAILPOINT_HIT"
ENV_MATCH = "TICKERLAKE_FAILPOINT_MATCH"
ACTIONS = ("kill", "raise", "sleep:N")


class InjectedFault(RuntimeError):
    """Raised by a failpoint armed with action `raise`."""


@dataclass
class _Armed:
    name: str
    action: str
    hit: int
    match: str
    seen: int = 0


_UNREAD = object()
_armed: object = _UNREAD  # _Armed, None (disarmed), or _UNREAD until the first hit


def _from_env(env: dict[str, str]) -> _Armed | None:
    name = (env.get(ENV_POINT) or "").strip()
    if not name:
        return None
    action = (env.get(ENV_ACTION) or "kill").strip()
    if action not in ("kill", "raise") and not action.startswith("sleep:"):
        raise ValueError(f"{ENV_ACTION}={action!r}: use one of {', '.join(ACTIONS)}")
    if action.startswith("sleep:"):
        try:  # fail now on a bad number, not at the point
            float(action.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"{ENV_ACTION}={action!r}: sleep:N needs N in seconds, e.g. sleep:0.5") from None
    return _Armed(name, action, max(1, int(env.get(ENV_HIT) or 1)), env.get(ENV_MATCH) or "")


def reset(env: dict[str, str] | None = None) -> None:
    """Re-read the arming from `env` (default os.environ): for tests that arm in-process."""
    global _armed
    _armed = _from_env(dict(os.environ if env is None else env))


def hit(name: str, detail: str = "") -> None:
    """Reach the failpoint `name`; does nothing unless it is the armed one."""
    global _armed
    armed = _armed
    if armed is None:
        return
    if armed is _UNREAD:
        reset()
        armed = _armed
        if armed is None:
            return
    assert isinstance(armed, _Armed)
    if name != armed.name or (armed.match and armed.match not in detail):
        return
    armed.seen += 1
    if armed.seen != armed.hit:
        return
    where = f"{name} [{detail}]" if detail else name
    # One unbuffered line, so a test (and a person) can tell which point fired even after SIGKILL.
    try:
        os.write(2, f"failpoint {where}: {armed.action}\n".encode())
    except OSError:
        pass
    if armed.action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif armed.action == "raise":
        raise InjectedFault(f"injected fault at failpoint {where}")
    else:
        time.sleep(float(armed.action.split(":", 1)[1]))
