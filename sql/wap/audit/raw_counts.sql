-- Raw data rows per ingest run and symbol, as the engine reads them: what write_temp starts
-- from, for the run log's reconciliation and the audit's row-count rule.
-- Parameters: ingest_dates, ingest_run_ids (the ingest dates narrow the partitions read:
-- the raw table's first partition key).
with

raw_rows as (
    select
        ingest_run_id,
        symbol
    from stocks.raw_daily
    where ingest_date in ({{ingest_dates}})
        and ingest_run_id in ({{ingest_run_ids}})
),

per_fetch as (
    select
        ingest_run_id,
        symbol,
        count(*) as raw_rows
    from raw_rows
    group by ingest_run_id, symbol
)

select * from per_fetch
order by ingest_run_id, symbol
