-- mart.payment_refund_summary re-aggregated to the units in force since the 1 Jul 2025 merger.
-- steps_p90 is left out: a percentile does not re-aggregate from the provinces' percentiles.
create or replace view mart.payment_refund_summary_by_2025_unit as
with monthly as (
    select
        province_code_2025,
        max(province_name_2025) as province_name_2025,
        month,
        sum(payments)::bigint as payments,
        sum(payments_succeeded)::bigint as payments_succeeded,
        sum(payments_failed)::bigint as payments_failed,
        sum(payments_abandoned)::bigint as payments_abandoned,
        sum(amount_paid)::bigint as amount_paid,
        sum(national_platform_payments)::bigint as national_platform_payments,
        sum(steps_total)::bigint as steps_total,
        sum(steps_counted)::bigint as steps_counted,
        sum(refunds_required)::bigint as refunds_required,
        sum(refunds_automatic)::bigint as refunds_automatic,
        sum(refunds_manual)::bigint as refunds_manual,
        sum(refunds_completed)::bigint as refunds_completed,
        sum(refunds_failed)::bigint as refunds_failed,
        sum(refunds_pending)::bigint as refunds_pending,
        sum(refund_amount_required)::bigint as refund_amount_required,
        sum(amount_refunded)::bigint as amount_refunded,
        sum(refund_days_total)::bigint as refund_days_total,
        sum(refunds_pending_at_month_end)::bigint as refunds_pending_at_month_end,
        sum(amount_pending_at_month_end)::bigint as amount_pending_at_month_end,
        sum(refunds_pending_over_limit)::bigint as refunds_pending_over_limit,
        sum(amount_pending_over_limit)::bigint as amount_pending_over_limit,
        sum(refunds_never_requested)::bigint as refunds_never_requested,
        sum(amount_never_requested)::bigint as amount_never_requested,
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
