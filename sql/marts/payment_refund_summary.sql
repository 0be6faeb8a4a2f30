-- Payments and refunds per province (as recorded on the transaction) for the month %(month)s.
-- Payments count by paid_at (every attempt; amounts, the national-platform share and the steps
-- over the successful ones, DOMAIN §6.7: failed and abandoned attempts have their own counts;
-- steps over payments with a known count, p90 interpolated). Refunds count by
-- requested_at, with their newest status; days to refund are calendar days, completed refunds.
-- Stocks at the month end (never sum over months): refunds requested by then and still pending
-- at it (mart.refund_pending_at: a failed refund leaves the stock when it fails). Over-limit
-- and never-requested refunds are the month's cases in mart.payment_refund_issues (rebuilt
-- just before, same transaction). Amounts are VND.
with bounds as not materialized (
    select * from mart.month_bounds(%(month)s)
),

events as (
    select
        province_code,
        'payment' as source,
        status,
        gateway as kind,
        amount,
        steps,
        null::integer as days
    from core.fact_payment, bounds
    where paid_at >= bounds.month and paid_at < bounds.month_end
    union all
    select
        province_code,
        'refund',
        status,
        method,
        amount,
        null,
        completed_at::date - requested_at::date
    from core.fact_refund, bounds
    where requested_at >= bounds.month and requested_at < bounds.month_end
    union all
    select province_code, 'pending', status, method, amount, null, null
    from core.fact_refund, bounds
    where
        requested_at < bounds.month_end
        and mart.refund_pending_at(status, completed_at, source_updated_at, bounds.month_end)
    union all
    select
        province_code, issue_code, null, null, coalesce(refund_amount, payment_amount), null, null
    from mart.payment_refund_issues
    where
        month = %(month)s::date
        and issue_code in ('refund_pending_over_limit', 'refund_never_requested')
),

counts as (
    select
        province_code,
        count(*) filter (where source = 'payment') as payments,
        count(*) filter (where source = 'payment' and status = 'success') as payments_succeeded,
        count(*) filter (where source = 'payment' and status = 'failed') as payments_failed,
        count(*) filter (where source = 'payment' and status = 'abandoned') as payments_abandoned,
        coalesce(sum(amount) filter (where source = 'payment' and status = 'success'), 0)
            as amount_paid,
        count(*) filter (where source = 'payment' and status = 'success' and kind = 'national')
            as national_platform_payments,
        coalesce(sum(steps) filter (where source = 'payment' and status = 'success'), 0)
            as steps_total,
        count(steps) filter (where source = 'payment' and status = 'success') as steps_counted,
        round((
            percentile_cont(0.9) within group (order by steps)
            filter (where source = 'payment' and status = 'success')
        )::numeric, 2) as steps_p90,
        count(*) filter (where source = 'refund') as refunds_required,
        count(*) filter (where source = 'refund' and kind = 'automatic') as refunds_automatic,
        count(*) filter (where source = 'refund' and kind = 'manual') as refunds_manual,
        count(*) filter (where source = 'refund' and status = 'completed') as refunds_completed,
        count(*) filter (where source = 'refund' and status = 'failed') as refunds_failed,
        count(*) filter (where source = 'refund' and status = 'pending') as refunds_pending,
        coalesce(sum(amount) filter (where source = 'refund'), 0) as refund_amount_required,
        coalesce(sum(amount) filter (where source = 'refund' and status = 'completed'), 0)
            as amount_refunded,
        coalesce(sum(days) filter (where source = 'refund' and status = 'completed'), 0)
            as refund_days_total,
        count(*) filter (where source = 'pending') as refunds_pending_at_month_end,
        coalesce(sum(amount) filter (where source = 'pending'), 0) as amount_pending_at_month_end,
        count(*) filter (where source = 'refund_pending_over_limit') as refunds_pending_over_limit,
        coalesce(sum(amount) filter (where source = 'refund_pending_over_limit'), 0)
            as amount_pending_over_limit,
        count(*) filter (where source = 'refund_never_requested') as refunds_never_requested,
        coalesce(sum(amount) filter (where source = 'refund_never_requested'), 0)
            as amount_never_requested
    from events
    group by province_code
),

final as (
    select
        counts.*, coalesce(province.province_name, counts.province_code) as province_name,
        province.province_code_2025, province.province_name_2025,
        %(month)s::date as month,
        setting.value as refund_time_limit_days
    from counts
    inner join ref.setting as setting on setting.name = 'refund_time_limit_days'
    left join mart.province_at_month_end(%(month)s) as province
        on counts.province_code = province.province_code
)

select * from final
