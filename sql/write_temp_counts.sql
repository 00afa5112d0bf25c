-- Raw data rows per ingest run and symbol, as the engine reads them: what write_temp starts
-- from, for the run log's reconciliation and the audit's row-count rule.
-- Parameters: ingest_run_ids.
with

raw_rows as (
    select
        run_id,
        symbol
    from stocks.raw_daily
    where run_id in ({{ingest_run_ids}})
),

per_fetch as (
    select
        run_id,
        symbol,
        count(*) as raw_rows
    from raw_rows
    group by run_id, symbol
)

select * from per_fetch
order by run_id, symbol
