-- mart.monthly_compliance re-aggregated from its counts to the units in force since the
-- 1 Jul 2025 merger: counts summed (the columns its doc, sql/marts/monthly_compliance.yml, marks
-- rollup: sum; db/objects.py puts the list in), year-to-date flows summed over the unit's months,
-- rates recomputed from the sums (never averaged) by mart.compliance_rates, ranks among the units.
create or replace view mart.monthly_compliance_by_2025_unit as
with monthly as (
    select
        province_code_2025,
        max(province_name_2025) as province_name_2025,
        month,
        {monthly_compliance_sums},
        max(digitization_target_pct) as digitization_target_pct
    from mart.monthly_compliance
    group by province_code_2025, month
),

with_ytd as (
    select
        *,
        (sum(dossiers_received) over unit_year)::bigint as dossiers_received_ytd,
        (sum(synced_received) over unit_year)::bigint as synced_received_ytd,
        (sum(digitized_766) over unit_year)::bigint as digitized_766_ytd,
        (sum(digitized_provincial) over unit_year)::bigint as digitized_provincial_ytd,
        (sum(online_received) over unit_year)::bigint as online_received_ytd,
        (sum(fee_bearing_received) over unit_year)::bigint as fee_bearing_received_ytd,
        (sum(paid_online_received) over unit_year)::bigint as paid_online_received_ytd,
        (sum(dossiers_finished) over unit_year)::bigint as dossiers_finished_ytd,
        (sum(finished_on_time_766) over unit_year)::bigint as finished_on_time_766_ytd,
        (sum(finished_on_time_provincial) over unit_year)::bigint
            as finished_on_time_provincial_ytd,
        (sum(paper_result_finished) over unit_year)::bigint as paper_result_finished_ytd,
        (sum(e_result_finished) over unit_year)::bigint as e_result_finished_ytd
    from monthly
    window unit_year as (
        partition by province_code_2025, date_trunc('year', month::timestamp) order by month
    )
),

final as (
    select
        with_ytd.*,
        month_rate.digitization_rate_766, month_rate.digitization_rate_provincial,
        month_rate.online_submission_rate, month_rate.online_payment_rate, month_rate.e_result_rate,
        month_rate.on_time_rate_766, month_rate.on_time_rate_provincial,
        ytd_rate.digitization_rate_766 as digitization_rate_766_ytd,
        ytd_rate.digitization_rate_provincial as digitization_rate_provincial_ytd,
        ytd_rate.online_submission_rate as online_submission_rate_ytd,
        ytd_rate.online_payment_rate as online_payment_rate_ytd,
        ytd_rate.e_result_rate as e_result_rate_ytd,
        ytd_rate.on_time_rate_766 as on_time_rate_766_ytd,
        ytd_rate.on_time_rate_provincial as on_time_rate_provincial_ytd,
        month_rate.digitization_rate_766 >= digitization_target_pct as meets_digitization_target,
        ytd_rate.digitization_rate_766 >= digitization_target_pct as meets_digitization_target_ytd,
        rank() over (partition by month order by month_rate.digitization_rate_766 desc nulls last)
            as digitization_rank,
        rank() over (partition by month order by ytd_rate.digitization_rate_766 desc nulls last)
            as digitization_rank_ytd
    from with_ytd
    cross join
        lateral mart.compliance_rates(
            dossiers_received, synced_received, digitized_766, digitized_provincial,
            online_received, fee_bearing_received, paid_online_received, dossiers_finished,
            finished_on_time_766, finished_on_time_provincial, paper_result_finished,
            e_result_finished, in_progress_at_month_end, in_progress_overdue_766,
            in_progress_overdue_provincial
        ) as month_rate
    cross join
        lateral mart.compliance_rates(
            dossiers_received_ytd, synced_received_ytd, digitized_766_ytd, digitized_provincial_ytd,
            online_received_ytd, fee_bearing_received_ytd, paid_online_received_ytd,
            dossiers_finished_ytd, finished_on_time_766_ytd, finished_on_time_provincial_ytd,
            paper_result_finished_ytd, e_result_finished_ytd, in_progress_at_month_end,
            in_progress_overdue_766, in_progress_overdue_provincial
        ) as ytd_rate
)

select * from final
