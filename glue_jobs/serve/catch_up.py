"""The serve stage's bulk path: an empty serving table with published manifests it has not
taken yet (the first run after a backfill, a lost table) is filled by the rebuild's bulk path
from the published table, not by the loader manifest by manifest.

The loader makes a Bar of every row a manifest changed and writes it conditionally: a 20-year
backfill's 25 M rows took 637 s that way (about 40,000 rows/s). An empty table holds nothing the
published table could disagree with, so the rebuild writes it as columns, at each partition's
published version, as the loader would have. The manifests it covered are then recorded as
announced (state/serving_events.json), so the queue does not carry them again; one already on
the queue is loaded as usual and finds every row current (stale writes, no change).

Only under the lake's lock (the serve stage of a run): a publish between the rebuild's read and
the record would otherwise be recorded without being loaded."""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

from glue_jobs.lake import layout
from glue_jobs.ports.serving import ServingTable
from glue_jobs.ports.storage import NotFound, Storage
from glue_jobs.serve import rebuild
from glue_jobs.serve.rebuild import RebuildResult

log = logging.getLogger("tickerlake.serve")


def is_empty(serving: ServingTable) -> bool:
    """Whether the table holds no row, from its first row only (a count would read every row)."""
    rows = serving.scan()
    try:
        return next(iter(rows), None) is None
    finally:
        close = getattr(rows, "close", None)
        if callable(close):
            close()


def manifest_digests(storage: Storage) -> dict[str, str]:
    """Every published manifest's key and digest, as the local announce records them."""
    from glue_jobs.serve.sync import digest

    out = {}
    for key in sorted(storage.list_keys(layout.PUBLISHED_MANIFEST_PREFIX)):
        if layout.is_published_manifest_key(key):
            try:
                out[key] = digest(storage.get_bytes(key))
            except NotFound:
                continue
    return out


def announced(storage: Storage) -> dict[str, str]:
    try:
        return json.loads(storage.get_bytes(layout.SERVING_EVENTS_KEY))
    except NotFound:
        return {}


def fill_empty(storage: Storage, catalog: Any, serving: ServingTable, *, version: str,
               say: Callable[[str], None] = lambda line: None) -> RebuildResult | None:
    """Fill an empty table from the published table when manifests wait to be carried; None
    (nothing done) when the table holds rows or every manifest was announced already."""
    if catalog.get_table(layout.DATABASE, layout.PUBLISHED_TABLE) is None:
        return None
    manifests = manifest_digests(storage)
    seen = announced(storage)
    waiting = [k for k, d in manifests.items() if seen.get(k) != d]
    if not waiting or not is_empty(serving):
        return None
    log.info("serve: the serving table is empty and %d published manifest(s) wait: filling it from the "
             "published table (bulk) instead of loading them one by one", len(waiting))
    result = rebuild.rebuild(storage, catalog, serving, version=version, say=say)
    serving.make_durable()  # recorded as announced, the manifests are not carried again
    seen.update(manifests)  # the manifests read before the rebuild: what it covered
    storage.put_bytes(layout.SERVING_EVENTS_KEY, (json.dumps(seen, indent=1, sort_keys=True) + "\n").encode())
    return result
