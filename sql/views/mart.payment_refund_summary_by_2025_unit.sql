-- mart.payment_refund_summary re-aggregated to the units in force since the 1 Jul 2025 merger:
-- counts and amounts summed (the columns its doc, sql/marts/payment_refund_summary.yml, marks
-- rollup: sum; db/objects.py puts the list in), averages recomputed from the sums.
-- steps_p90 is left out: a percentile does not re-aggregate from the provinces' percentiles.
create or replace view mart.payment_refund_summary_by_2025_unit as
with monthly as (
    select
        province_code_2025,
        max(province_name_2025) as province_name_2025,
        month,
        {payment_refund_summary_sums},
        max(refund_time_limit_days) as refund_time_limit_days
    from mart.payment_refund_summary
    group by province_code_2025, month
),

final as (
    select
        *,
        mart.rate(national_platform_payments, payments_succeeded) as national_platform_share,
        round(steps_total::numeric / nullif(steps_counted, 0), 2) as avg_steps,
        round(refund_days_total::numeric / nullif(refunds_completed, 0), 2) as avg_days_to_refund
    from monthly
)

select * from final
