"""Pure planning for `tickerlake rollback --run RUN_ID`: which partitions go back where.

Every catalog switch of a published partition is recorded in the run log of the run that made
it: publish records (location, previous location) per partition before it switches
(`published_partitions`, merged over retries of the stage, so the first previous location
wins), and a rollback records (from, to) per partition. From those records and the catalog as
it is now, the plan puts each partition the run published back to its previous location:

    now at the run's location        -> back to the previous one (a partition the run
                                        created goes back to an empty version)
    now at the previous location     -> nothing to do (already rolled back)
    now anywhere else                -> a later run republished it: refused, naming that run
                                        (roll it back first), unless forced
"""
from __future__ import annotations

from dataclasses import dataclass, field

from glue_jobs.lake.publish_record import PUBLISH_RECORD

TABLES = ("daily_prices", "daily_prices_quarantine")


@dataclass(frozen=True)
class Change:
    """One switch of one partition, as a run log records it."""

    run_id: str
    kind: str  # publish | rollback
    table: str
    partition: str  # trade_year value
    location: str | None  # where the partition points after the switch (None: an empty version)
    previous: str | None  # where it pointed before


@dataclass(frozen=True)
class Action:
    table: str
    partition: str
    current: str | None
    to: str | None  # None: the partition did not exist before the run: an empty version
    forced_over: str | None = None  # the later run whose change this overrides (with --force)


@dataclass(frozen=True)
class Conflict:
    table: str
    partition: str
    current: str | None
    changed_by: str | None  # run id, or None if no run log explains the current location
    changed_how: str  # publish | rollback | unknown


@dataclass
class RollbackPlan:
    run_id: str
    actions: list[Action] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    already: list[tuple[str, str]] = field(default_factory=list)  # (table, partition) already back

    @property
    def blocked(self) -> bool:
        return bool(self.conflicts) and not any(a.forced_over for a in self.actions)


def changes_in(doc: dict) -> list[Change]:
    """Every partition switch a run log records (publish or rollback)."""
    run_id = str(doc.get("run_id") or "")
    out: list[Change] = []
    for table, parts in (doc.get(PUBLISH_RECORD) or {}).items():
        for partition, entry in parts.items():
            out.append(Change(run_id, "publish", table, str(partition), entry.get("location"), entry.get("previous")))
    if not doc.get(PUBLISH_RECORD):
        # run logs from before publish kept the record: the publish stage's details name
        # the new locations only (previous = unknown, inferred from earlier runs)
        details = ((doc.get("stages") or {}).get("publish") or {}).get("details") or {}
        for table in TABLES:
            section = details.get(table) or {}
            previous = section.get("previous") or {}
            for partition, location in (section.get("locations") or {}).items():
                out.append(Change(run_id, "publish", table, str(partition), location,
                                  previous.get(partition, _UNKNOWN)))
    rollback = (doc.get("stages") or {}).get("rollback") or {}
    if rollback.get("status") == "succeeded":
        for a in (rollback.get("details") or {}).get("actions") or []:
            out.append(Change(run_id, "rollback", a["table"], str(a["partition"]), a.get("to"), a.get("from")))
    return out


_UNKNOWN = "?unknown"  # a previous location the record does not have


# -- the plan ------------------------------------------------------------------------------------


def plan_rollback(run_id: str, changes: list[Change], current: dict[tuple[str, str], str | None], *,
                  force: bool = False, empty_location=None) -> RollbackPlan:
    """Put back every partition run `run_id` published. `changes` are all recorded switches
    (any run), `current` maps (table, partition) to where the catalog points now.
    `empty_location(table, partition)` names a fresh location for an empty version."""
    plan = RollbackPlan(run_id)
    ordered = sorted(changes, key=lambda c: c.run_id)
    mine = [c for c in ordered if c.run_id == run_id and c.kind == "publish"]
    for change in mine:
        key = (change.table, change.partition)
        previous = change.previous
        if previous == _UNKNOWN:
            earlier = [c for c in ordered if c.run_id < run_id and (c.table, c.partition) == key]
            previous = earlier[-1].location if earlier else None
        now = current.get(key)
        if now == previous or (previous is None and _is_empty_version(now, changes, key, run_id)):
            plan.already.append(key)
            continue
        to = previous if previous is not None else (empty_location(*key) if empty_location else None)
        if now == change.location:
            plan.actions.append(Action(change.table, change.partition, now, to))
            continue
        by = [c for c in ordered if (c.table, c.partition) == key and c.location == now and c.run_id != run_id]
        conflict = Conflict(change.table, change.partition, now, by[-1].run_id if by else None,
                            by[-1].kind if by else "unknown")
        plan.conflicts.append(conflict)
        if force:
            plan.actions.append(Action(change.table, change.partition, now, to, forced_over=conflict.changed_by or "?"))
    return plan


def _is_empty_version(now: str | None, changes: list[Change], key: tuple[str, str], run_id: str) -> bool:
    """Whether `now` is the empty version an earlier rollback of this run put in place."""
    return now is not None and any(
        c.kind == "rollback" and (c.table, c.partition) == key and c.location == now and c.previous is not None
        and any(m.run_id == run_id and m.location == c.previous for m in changes if m.kind == "publish")
        for c in changes
    )


def refusal(plan: RollbackPlan) -> str:
    """Why the rollback is refused, and what to do."""
    lines = [f"rollback of run {plan.run_id} refused: a later change moved {len(plan.conflicts)} of the "
             f"partitions it published, so putting them back would also undo that change:"]
    later = []
    for c in plan.conflicts:
        who = f"{c.changed_how} by run {c.changed_by}" if c.changed_by else "a change no run log explains"
        lines.append(f"  - stocks.{c.table} trade_year={c.partition}: now at {c.current or '(not registered)'} ({who})")
        if c.changed_by and c.changed_how == "publish" and c.changed_by not in later:
            later.append(c.changed_by)
    if later:
        lines.append("  Roll back the later run(s) first, newest first, then this one:")
        lines += [f"    tickerlake rollback --run {r}" for r in sorted(later, reverse=True)]
    lines.append(f"  Or pass --force to put these partitions back to their state before run {plan.run_id} "
                 f"anyway (whatever the later runs published there is taken out of prod too).")
    return "\n".join(lines)
