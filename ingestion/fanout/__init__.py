"""Fan-out ingestion for large universes: a planner puts the day's symbols on a queue, workers
fetch one symbol per message under a token bucket shared by all of them, and the worker that
finds the day drained starts the WAP once. See ingestion/fanout/README.md."""
