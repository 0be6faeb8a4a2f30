-- Overdue dossiers at the end of the month %(month)s, one row per dossier: finished late during
-- the month, or in progress at its end (its state then, from the status history:
-- dossier_month_end.sql, the rebuild's temporary table of the month's dossiers, whatever
-- happened later) and past the due time. status is the status
-- at the month end. as_of is the month's last day, or the date of mart.data_as_of while the
-- month is not over (never a future day).
-- * 766 rule, timestamps: late when finished after due_766 (due_at moved by the days waiting for
--   the citizen, working days by default), after more than one supplement request, or with no
--   due date; in progress: overdue once due_766 is before the month end (or the as-of instant).
-- * provincial rule, dates: late when finished_at::date > due_at::date; no due date is never
--   late; in progress: overdue when the due date is before as_of.
-- A dossier is listed when either rule calls it overdue; both flags are kept.
-- days_overdue: calendar days from the due date (provincial) and days_overdue_766 from due_766
-- to the finish date (or as_of), at least 0, null without a due date; working_days_overdue:
-- working days in (due, end], mart.working_days_between. Names: mart.dossier_flags (agency,
-- procedure), mart.province_at (province at receipt). Bounds: mart.month_bounds; the rules:
-- mart.overdue_766 and mart.overdue_provincial, shared with mart.overdue_dossiers_current.
-- bounds is materialized (one row): its as-of values then reach the expressions below as
-- plain columns. Inlined, they carry mart.data_as_of's subqueries, and PostgreSQL does not inline
-- a SQL function that reads such an argument twice (mart.working_days_between was then called
-- once per row: 2.2 s instead of 0.8 s for 450,000 overdue rows).
with bounds as materialized (
    select * from mart.month_bounds(%(month)s)
),

candidates as (
    select
        flags.*,
        bounds.as_of,
        not flags.in_progress as is_finished,
        mart.overdue_766(
            not flags.in_progress, flags.on_time_766, flags.late_766_regardless,
            flags.due_766, bounds.evaluated_at
        ) as overdue_766,
        mart.overdue_provincial(
            not flags.in_progress, flags.on_time_provincial, flags.due_at, bounds.as_of
        ) as overdue_provincial,
        least(flags.finished_at::date, bounds.as_of) as end_day
    from pg_temp.dossier_month_end as flags
    cross join bounds
    where
        flags.in_progress
        or (flags.finished_at >= bounds.month and flags.finished_at < bounds.month_end)
),

final as (
    select
        candidates.dossier_code,
        %(month)s::date as month,
        candidates.as_of,
        candidates.status_at_month_end as status,
        candidates.overdue_766,
        candidates.overdue_provincial,
        mart.overdue_reason(candidates.supplement_count, candidates.due_at) as overdue_reason,
        case when candidates.is_finished then 'finished_late' else 'in_progress' end
            as overdue_kind,
        case when candidates.is_finished then candidates.finished_at end as finished_at,
        mart.days_overdue(candidates.due_at, candidates.end_day) as days_overdue,
        mart.working_days_between(
            candidates.due_at::date, candidates.end_day, calendar.first_day,
            calendar.working_days_to
        ) as working_days_overdue,
        candidates.received_at,
        candidates.due_at,
        candidates.supplement_count,
        candidates.supplement_days,
        candidates.due_766,
        mart.days_overdue(candidates.due_766, candidates.end_day) as days_overdue_766,
        candidates.province_code,
        unit.province_name,
        unit.province_code_2025,
        unit.province_name_2025,
        candidates.agency_code,
        candidates.agency_name,
        candidates.agency_level,
        candidates.procedure_code,
        candidates.procedure_name
    from candidates
    cross join mart.working_day_calendar as calendar
    left join
        lateral mart.province_at(candidates.province_code, candidates.received_at) as unit
        on true
    where candidates.overdue_766 or candidates.overdue_provincial
)

select * from final
