-- One row per province (as it was when the dossier was received) for the month %(month)s: the
-- month's figures are the sums of mart.agency_monthly_counts (rebuilt just before, in the same
-- transaction), so province and agency figures always agree. Counting rules: see
-- agency_monthly_counts.sql. Year to date: the flows counted again from core over
-- January..%(month)s by the same list (flow_counts.sql); the month-end stock (in progress,
-- overdue) is this month's. A month reads no other month, so months can be rebuilt in any order.
-- Rates and meets_* are generated columns; rank 1 is the best 766 digitization rate.
with agency as (
    select *
    from mart.agency_monthly_counts
    where month = %(month)s::date
),

month_counts as (
    select
        province_code,
        max(province_name) as province_name,
        max(province_code_2025) as province_code_2025,
        max(province_name_2025) as province_name_2025,
        max(digitization_target_pct) as digitization_target_pct,
        sum(dossiers_received) as dossiers_received,
        sum(synced_received) as synced_received,
        sum(digitized_766) as digitized_766,
        sum(digitized_provincial) as digitized_provincial,
        sum(unsynced_digitized) as unsynced_digitized,
        sum(e_result_missing) as e_result_missing,
        sum(components_not_digitized) as components_not_digitized,
        sum(online_received) as online_received,
        sum(fee_bearing_received) as fee_bearing_received,
        sum(paid_online_received) as paid_online_received,
        sum(dossiers_finished) as dossiers_finished,
        sum(finished_on_time_766) as finished_on_time_766,
        sum(finished_late_766) as finished_late_766,
        sum(finished_on_time_provincial) as finished_on_time_provincial,
        sum(finished_late_provincial) as finished_late_provincial,
        sum(paper_result_finished) as paper_result_finished,
        sum(e_result_finished) as e_result_finished,
        sum(in_progress_at_month_end) as in_progress_at_month_end,
        sum(in_progress_overdue_766) as in_progress_overdue_766,
        sum(in_progress_overdue_provincial) as in_progress_overdue_provincial,
        sum(not_accepted_received) as not_accepted_received,
        sum(no_due_date_counted) as no_due_date_counted
    from agency
    group by province_code
),

bounds as not materialized (
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
    -- Unfinished dossiers come along too (counting nothing) so every province with a month-end
    -- stock has a year-to-date row.
    where
        flags.received_at < bounds.month_end
        and coalesce(flags.finished_at >= bounds.year_start, true)
),

ytd_counts as (
    select
        province_code,
        {flow_counts_ytd}
    from year_dossiers
    group by province_code
),

final as (
    select
        *,
        %(month)s::date as month,
        rank() over (
            order by mart.rate(digitized_766, synced_received) desc nulls last
        ) as digitization_rank,
        rank() over (
            order by mart.rate(digitized_766_ytd, synced_received_ytd) desc nulls last
        ) as digitization_rank_ytd
    from month_counts
    inner join ytd_counts using (province_code)
)

select * from final
