-- Overdue dossiers at the end of the month %(month)s, one row per dossier: finished late during
-- the month, or still in progress past the due time at its end. as_of is the month's last day,
-- or the date of mart.data_as_of while the month is not over (never a future day).
-- * 766 rule, timestamps: late when finished after due_at + supplement_days, after more than
--   one supplement request, or with no due date; in progress: overdue once that due time is
--   before the month end (or the data's as-of instant).
-- * provincial rule, dates: late when finished_at::date > due_at::date; no due date is never
--   late; in progress: overdue when the due date is before as_of.
-- A dossier is listed when either rule calls it overdue; both flags are kept.
-- days_overdue: calendar days from the due date to the finish date (or as_of), at least 0, null
-- without a due date; working_days_overdue: working days of ref.working_day in (due, end], null
-- outside the calendar. bounds is not materialized so its values fold into the scan.
with bounds as not materialized (
    select
        %(month)s::date as month,
        %(month)s::date + interval '1 month' as month_end,
        least(%(month)s::date + interval '1 month', (select as_of_at from mart.data_as_of))
            as evaluated_at,
        least((%(month)s::date + interval '1 month')::date - 1,
            (select as_of_at from mart.data_as_of)::date) as as_of
),

candidates as (
    select
        flags.*,
        bounds.as_of,
        flags.finished_at < bounds.month_end as is_finished,
        case when flags.finished_at < bounds.month_end then not flags.on_time_766
            else flags.late_766_regardless or flags.due_766 < bounds.evaluated_at
        end as overdue_766,
        case when flags.finished_at < bounds.month_end then not flags.on_time_provincial
            else coalesce(flags.due_at::date < bounds.as_of, false)
        end as overdue_provincial,
        least(flags.finished_at::date, bounds.as_of) as end_day
    from mart.dossier_flags as flags
    cross join bounds
    where flags.timed
        and flags.received_at < bounds.month_end
        and coalesce(flags.finished_at >= bounds.month, true)
),

calendar as (
    select day, count(*) filter (where is_working_day) over (order by day) as working_days_to
    from ref.working_day
),

final as (
    select
        %(month)s::date as month,
        candidates.as_of,
        candidates.dossier_code,
        candidates.province_code,
        unit.province_name,
        unit.province_code_2025,
        unit.province_name_2025,
        candidates.agency_code,
        agency.name as agency_name,
        agency.agency_level,
        candidates.procedure_code,
        coalesce(procedure.name, candidates.procedure_name) as procedure_name,
        candidates.status,
        case when candidates.is_finished then 'finished_late' else 'in_progress' end
            as overdue_kind,
        candidates.overdue_766,
        candidates.overdue_provincial,
        case when candidates.supplement_count > 1 then 'more than one supplement request'
            when candidates.due_at is null then 'no due date'
            else 'past the due date'
        end as overdue_reason,
        candidates.received_at,
        candidates.due_at,
        case when candidates.is_finished then candidates.finished_at end as finished_at,
        candidates.supplement_count,
        candidates.supplement_days,
        case when candidates.due_at is not null
            then greatest(candidates.end_day - candidates.due_at::date, 0)
        end as days_overdue,
        case when due_day.day is not null and end_day.day is not null
            then greatest(end_day.working_days_to - due_day.working_days_to, 0)
        end as working_days_overdue
    from candidates
    left join mart.province_unit_2025 as unit
        on unit.province_code = candidates.province_code
        and candidates.received_at >= unit.valid_from
        and (unit.valid_to is null or candidates.received_at < unit.valid_to)
    left join calendar as due_day on due_day.day = candidates.due_at::date
    left join calendar as end_day on end_day.day = candidates.end_day
    left join ref.agency as agency on agency.agency_code = candidates.agency_code
    left join ref.procedure as procedure on procedure.procedure_code = candidates.procedure_code
    where candidates.overdue_766 or candidates.overdue_provincial
)

select * from final
