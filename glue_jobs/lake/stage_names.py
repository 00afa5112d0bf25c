"""The names of a pipeline run's stages, in order, as the run log and the ledger record them
(stocks.pipeline_runs has a column of seconds per stage). workflows/graph.py declares what runs
each stage and where; it checks at import that its stages are exactly these. A ledger written
before a stage existed still reads: its column is null in the older rows."""
from __future__ import annotations

STAGE_NAMES = ("ingest", "crawl", "drop_temp", "write_temp", "audit", "publish", "serve", "after_publish")
