-- The year-to-date flows of the month %(month)s, one row per province (as it was when the dossier
-- was received): the flows counted again from core over January..%(month)s by the list
-- flow_counts.sql gives the agency month too, under their _ytd names. Unfinished dossiers come
-- along (counting nothing), so every province with a month-end stock has a row. The rebuild
-- reads it into pg_temp.year_to_date_counts for monthly_compliance.sql (marts/builder.py),
-- computed on a second connection that shares the month's snapshot while this connection builds
-- the month's other marts.
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
