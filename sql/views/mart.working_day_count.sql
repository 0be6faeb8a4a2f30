-- The working-day calendar (ref.working_day) with each day's running count of working days, from
-- the calendar's first day through that day: the working days in (a, b] are the difference of the
-- counts of b and a; a day outside the calendar has no count. For BI; the marts read the same
-- counts as arrays (mart.working_day_calendar, mart.working_days_between).
create or replace view mart.working_day_count as
select
    day,
    is_working_day,
    count(*) filter (where is_working_day) over (order by day) as working_days_to
from ref.working_day
