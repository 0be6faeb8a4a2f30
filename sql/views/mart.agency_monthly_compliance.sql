-- mart.agency_monthly_counts with the rank among the province's agencies and the weak-unit flag:
-- below the digitization target, or the 766 digitization or on-time rate falling in each of the
-- last three months (three consecutive earlier months must exist). A unit that received fewer
-- than ref.setting weak_min_dossiers dossiers in the month is 'too few dossiers', never weak
-- (DOMAIN §6.5): one or two dossiers make any rate 0 or 100.
create or replace view mart.agency_monthly_compliance as
with trend as (
    select
        counts.*,
        lag(counts.digitization_rate_766, 1) over agency_months as digitization_rate_766_1,
        lag(counts.digitization_rate_766, 2) over agency_months as digitization_rate_766_2,
        lag(counts.digitization_rate_766, 3) over agency_months as digitization_rate_766_3,
        lag(counts.on_time_rate_766, 1) over agency_months as on_time_rate_766_1,
        lag(counts.on_time_rate_766, 2) over agency_months as on_time_rate_766_2,
        lag(counts.on_time_rate_766, 3) over agency_months as on_time_rate_766_3,
        lag(counts.month, 3) over agency_months as month_3
    from mart.agency_monthly_counts as counts
    window
        agency_months as (
            partition by counts.province_code, counts.agency_code order by counts.month
        )
),

flagged as (
    select
        *,
        coalesce(digitization_rate_766 < digitization_target_pct, false) as below_target,
        coalesce(
            month_3 = month - interval '3 months'
            and digitization_rate_766 < digitization_rate_766_1
            and digitization_rate_766_1 < digitization_rate_766_2
            and digitization_rate_766_2 < digitization_rate_766_3,
            false
        ) as digitization_falling,
        coalesce(
            month_3 = month - interval '3 months'
            and on_time_rate_766 < on_time_rate_766_1
            and on_time_rate_766_1 < on_time_rate_766_2
            and on_time_rate_766_2 < on_time_rate_766_3,
            false
        ) as on_time_falling,
        dossiers_received < (
            select value from ref.setting
            where name = 'weak_min_dossiers'
        ) as too_few_dossiers
    from trend
),

final as (
    select
        province_code, province_name, province_code_2025, province_name_2025, agency_code,
        agency_name, agency_level, month, dossiers_received, synced_received, digitized_766,
        digitized_provincial, unsynced_digitized, e_result_missing, components_not_digitized,
        online_received, fee_bearing_received, paid_online_received, dossiers_finished,
        finished_on_time_766, finished_late_766, finished_on_time_provincial,
        finished_late_provincial, paper_result_finished, e_result_finished,
        in_progress_at_month_end, in_progress_overdue_766, in_progress_overdue_provincial,
        digitization_target_pct, digitization_rate_766, digitization_rate_provincial,
        online_submission_rate, online_payment_rate, e_result_rate, on_time_rate_766,
        on_time_rate_provincial, meets_digitization_target,
        rank() over (
            partition by province_code, month order by digitization_rate_766 desc nulls last
        ) as rank_in_province,
        below_target,
        digitization_falling,
        on_time_falling,
        not too_few_dossiers and (below_target or digitization_falling or on_time_falling)
            as is_weak,
        case when too_few_dossiers then format(
            'too few dossiers (%s received) to judge', dossiers_received
        ) else nullif(concat_ws(
            '; ',
            case when below_target then format(
                'digitization %s %% below the %s %% target',
                digitization_rate_766, digitization_target_pct
            ) end,
            case
                when digitization_falling
                    then 'digitization rate fell three months in a row'
            end,
            case
                when on_time_falling
                    then 'on-time rate (766) fell three months in a row'
            end
        ), '') end as weak_reason,
        not_accepted_received,
        no_due_date_counted,
        too_few_dossiers
    from flagged
)

select * from final
