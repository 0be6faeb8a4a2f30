-- Overdue dossiers as of mart.data_as_of (the newest source_updated_at in core): every dossier
-- finished late and every one in progress past due, by the rules of mart.overdue_766 and
-- mart.overdue_provincial, as sql/marts/overdue_dossiers.sql lists them at each month end.
create or replace view mart.overdue_dossiers_current as
with candidates as (
    select
        flags.*,
        as_of.as_of_at,
        coalesce(flags.finished_at <= as_of.as_of_at, false) as is_finished,
        least(flags.finished_at::date, as_of.as_of_at::date) as end_day
    from mart.dossier_flags as flags
    cross join mart.data_as_of as as_of
    where flags.timed and flags.received_at <= as_of.as_of_at
),

judged as (
    select
        *,
        mart.overdue_766(
            is_finished, on_time_766, late_766_regardless, due_766, as_of_at
        ) as overdue_766,
        mart.overdue_provincial(
            is_finished, on_time_provincial, due_at, as_of_at::date
        ) as overdue_provincial
    from candidates
),

final as (
    select
        judged.as_of_at::date as as_of,
        judged.as_of_at,
        judged.dossier_code,
        judged.province_code,
        unit.province_name,
        unit.province_code_2025,
        unit.province_name_2025,
        judged.agency_code,
        judged.agency_name,
        judged.agency_level,
        judged.procedure_code,
        judged.procedure_name,
        judged.status,
        case when judged.is_finished then 'finished_late' else 'in_progress' end as overdue_kind,
        judged.overdue_766,
        judged.overdue_provincial,
        mart.overdue_reason(judged.supplement_count, judged.due_at) as overdue_reason,
        judged.received_at,
        judged.due_at,
        case when judged.is_finished then judged.finished_at end as finished_at,
        judged.supplement_count,
        judged.supplement_days,
        mart.days_overdue(judged.due_at, judged.end_day) as days_overdue,
        mart.working_days_between(
            judged.due_at::date, judged.end_day, calendar.first_day, calendar.working_days_to
        ) as working_days_overdue
    from judged
    cross join mart.working_day_calendar as calendar
    left join lateral mart.province_at(judged.province_code, judged.received_at) as unit on true
    where judged.overdue_766 or judged.overdue_provincial
)

select * from final
