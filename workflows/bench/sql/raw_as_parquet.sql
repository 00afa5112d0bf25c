-- The benchmark's floor (tickerlake bench): the raw rows of the given ingest runs exactly as
-- the raw table reads them, no parsing, no de-duplication, written as Parquet by the engine.
-- What write_temp reads, with none of its logic: no pipeline can load the raw zone faster.
-- Parameters: ingest_run_ids.
select *
from stocks.raw_daily
where ingest_run_id in ({{ingest_run_ids}})
