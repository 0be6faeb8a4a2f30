-- The working-day calendar (ref.working_day) as one row of arrays, for lookups by position
-- instead of joins: every day from the calendar's first to its last (a day missing from it is
-- not working), the working days in order, and each day's running count of working days. How
-- mart.dossier_flags finds the 766 deadline and mart.working_days_between counts working days.
create or replace view mart.working_day_calendar as
select
    min(day) as first_day,
    array_agg(day order by day) filter (where is_working_day) as working_days,
    array_agg(working_days_to order by day) as working_days_to
from (
    select
        series.day::date as day,
        coalesce(working.is_working_day, false) as is_working_day,
        count(*) filter (where working.is_working_day) over (order by series.day)
            as working_days_to
    from (select min(day) as first_day, max(day) as last_day from ref.working_day) as bounds
    cross join
        generate_series(bounds.first_day, bounds.last_day, interval '1 day') as series (day)
    left join ref.working_day as working on series.day = working.day
) as days
