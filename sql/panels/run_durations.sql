-- Seconds spent in each stage, per run, over the time range.
with

runs as (
    select
        started_at,
        run_id,
        status,
        seconds_ingest,
        seconds_crawl,
        seconds_drop_temp,
        seconds_write_temp,
        seconds_audit,
        seconds_publish,
        seconds_after_publish
    from stocks.pipeline_runs
    where $__timeFilter(started_at)
)

select * from runs
order by started_at
