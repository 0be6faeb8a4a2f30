-- The year-to-date flows of the month %(month)s, one row per province (as it was when the dossier
-- was received): counted from core over January..%(month)s with the agency month's list
-- (flow_counts.sql), under their _ytd names. Unfinished dossiers come along (counting nothing),
-- so every province with a month-end stock has a row. The rebuild (marts/builder.py) runs this on
-- a second connection, in the rebuild's snapshot, while the first builds the month's other marts,
-- and copies the rows into pg_temp.year_to_date_counts, which monthly_compliance.sql reads.
with bounds as not materialized (
    select month_end, date_trunc('year', month::timestamp) as year_start
    from mart.month_bounds(%(month)s)
),

year_dossiers as (
    select
        flags.*,
        flags.received_at >= bounds.year_start and not flags.not_accepted as received,
        flags.finished_at >= bounds.year_start and flags.finished_at < bounds.month_end as finished
    from mart.dossier_flags as flags
    cross join bounds
    where
        flags.received_at < bounds.month_end
        and coalesce(flags.finished_at >= bounds.year_start, true)
)

select
    province_code,
    {flow_counts_ytd}
from year_dossiers
group by province_code
