"""`tickerlake bench`: how the pipeline's cost grows with the work, against the targets of
issue 6 (backfill vs the engine's floor and a naive pandas script, peak memory, an
incremental day on a big and a small history, dashboard query latency, ingestion's use of
the API allowance). See workflows/bench/run.py; `make bench` / `make bench-quick`."""
