-- Rows failing each row rule of the audit (those rows went to quarantine), per run, over
-- the time range. Batch rules pass or block a whole run: see audit_latest.sql.
with

results as (
    select
        started_at,
        rule,
        failing_rows
    from stocks.audit_results
    where $__timeFilter(started_at)
        and kind = 'row'
)

select * from results
order by started_at, rule
