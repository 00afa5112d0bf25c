-- The latest runs with the counts that must reconcile:
-- raw rows = published + unchanged + quarantined + duplicates dropped (unchanged: fetched again
-- exactly as published, neither audited again nor rewritten; null for a run ledgered before).
with

runs as (
    select
        run_id,
        started_at,
        as_of,
        status,
        seconds,
        symbols_fetched,
        symbols_failed,
        symbols_carried,
        raw_rows,
        published_rows,
        unchanged_rows,
        quarantined_rows,
        duplicates_dropped,
        reconciled
    from stocks.pipeline_runs
    where $__timeFilter(started_at)
)

select * from runs
order by started_at desc
limit 50
