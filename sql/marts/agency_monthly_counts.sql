-- Numerators and denominators per province (at receipt), processing agency and month %(month)s.
-- Rates, the target check, ranks and weak units are derived from these (generated columns,
-- mart.agency_monthly_compliance); mart.monthly_compliance sums these rows.
-- Rules (per-dossier flags in the view mart.dossier_flags; DOMAIN §4 and §6):
-- * received: received_at in the month, except not accepted (status 3, never received: counted
--   in not_accepted_received only). The flows of the received and finished cohorts are the
--   list in flow_counts.sql, which the year to date (monthly_compliance.sql) counts too.
-- * finished: status 9 or 10 at finished_at (returned_at when missing), counted in the month it
--   finished; 9/10 with no finishing time is left out of on-time counts.
-- * in progress at month end: the dossier's state at the month's last instant from the status
--   history (dossier_month_end.sql, the rebuild's temporary table of the month's dossiers),
--   whatever happened to it later. A stock: never sum it.
-- * 766 rule (timestamps): on time when finished_at <= due_766 (due_at moved by the days waiting
--   for the citizen, working days by default: mart.dossier_flags) and at most one supplement
--   request; no due date is late. In progress at the month end: overdue after more than one
--   supplement request, with no due date, or once due_766 is before the month end.
-- * provincial rule (dates): finished_at::date <= due_at::date; no due date is on time; in
--   progress at the month end: overdue when due before the month's last day.
-- * no_due_date_counted: dossiers in the on-time denominators (finished, or in progress at the
--   end) without an appointment date: on time provincially, late under 766 (DOMAIN §6.4).
-- * a month not over yet is evaluated at mart.data_as_of (newest data), never at a future day.
with dossiers as (
    select
        flags.*,
        flags.received_at >= bounds.month and not flags.not_accepted as received,
        flags.received_at >= bounds.month and flags.not_accepted as not_accepted_in_month,
        flags.finished_at >= bounds.month and flags.finished_at < bounds.month_end as finished,
        flags.in_progress as open_at_end,
        -- Only counted for dossiers open at the month end: the rules for those in progress.
        mart.overdue_766(
            false, null, flags.late_766_regardless, flags.due_766, bounds.evaluated_at
        ) as overdue_766,
        mart.overdue_provincial(false, null, flags.due_at, bounds.as_of) as overdue_provincial
    from pg_temp.dossier_month_end as flags
    cross join mart.month_bounds(%(month)s) as bounds
    where
        flags.received_at < bounds.month_end
        and (
            flags.received_at >= bounds.month or flags.finished_at >= bounds.month
            or flags.in_progress
        )
),

counts as (
    select
        province_code,
        agency_code,
        {flow_counts},
        count(*) filter (where received and is_unsynced_digitized) as unsynced_digitized,
        count(*) filter (where received and is_e_result_missing) as e_result_missing,
        count(*) filter (where received and is_components_not_digitized)
            as components_not_digitized,
        count(*) filter (where finished and not on_time_766) as finished_late_766,
        count(*) filter (where finished and not on_time_provincial) as finished_late_provincial,
        count(*) filter (where open_at_end) as in_progress_at_month_end,
        count(*) filter (where open_at_end and overdue_766) as in_progress_overdue_766,
        count(*) filter (where open_at_end and overdue_provincial)
            as in_progress_overdue_provincial,
        count(*) filter (where not_accepted_in_month) as not_accepted_received,
        count(*) filter (where (finished or open_at_end) and due_at is null)
            as no_due_date_counted
    from dossiers
    group by province_code, agency_code
),

target as (
    select target.value_pct
    from ref.target as target
    cross join mart.month_bounds(%(month)s) as bounds
    where
        target.indicator = 'digitization_766'
        and target.valid_from < bounds.month_end
        and (target.valid_to is null or target.valid_to >= bounds.month_end)
    order by target.valid_from desc
    limit 1
),

final as (
    select
        counts.*, coalesce(province.province_name, counts.province_code) as province_name,
        province.province_code_2025, province.province_name_2025,
        agency.name as agency_name,
        agency.agency_level,
        %(month)s::date as month,
        target.value_pct as digitization_target_pct
    from counts
    left join mart.province_at_month_end(%(month)s) as province
        on counts.province_code = province.province_code
    left join ref.agency as agency on counts.agency_code = agency.agency_code
    left join target on true
)

select * from final
