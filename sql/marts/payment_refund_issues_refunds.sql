-- Refund problem cases for the month %(month)s (mart.payment_refund_issues, part 1 of 2; part 2
-- is payment_refund_issues_payments.sql). Parameters come from ref.setting.
-- * refund_pending_over_limit: a month-end snapshot, like the overdue dossiers: every refund
--   requested by the month end and still pending at it (status pending, or completed after it,
--   or failed after it: a failed refund leaves the stock at its failure time, completed_at, or
--   the source's update time when none is given; DOMAIN §6.6) for more than
--   refund_time_limit_days calendar days, counted to the month's last day (or to the date of
--   mart.data_as_of while the month is not over).
-- * manual_refund, refund_failed, refund_without_payment: refunds requested in the month; a
--   refund's payment is the successful one with its transaction_id, or, when the refund names
--   no transaction, the dossier's first successful payment.
with bounds as not materialized (
    select * from mart.month_bounds(%(month)s)
),

refunds as (
    select
        refund.*,
        paid.amount as payment_amount,
        refund.requested_at >= bounds.month as requested_in_month,
        bounds.as_of - refund.requested_at::date as days_pending,
        mart.refund_pending_at(
            refund.status, refund.completed_at, refund.source_updated_at, bounds.month_end
        ) as pending_at_end,
        paid.transaction_id is null as no_payment,
        setting.value as limit_days
    from core.fact_refund as refund
    cross join bounds
    inner join ref.setting as setting on setting.name = 'refund_time_limit_days'
    left join lateral (
        select payment.transaction_id, payment.amount
        from core.fact_payment as payment
        where
            payment.status = 'success'
            and mart.refund_matches_payment(
                refund.transaction_id, refund.dossier_code,
                payment.transaction_id, payment.dossier_code
            )
        order by payment.paid_at, payment.transaction_id
        limit 1
    ) as paid on true
    where refund.requested_at < bounds.month_end
),

final as (
    select
        bounds.month, bounds.as_of, refunds.province_code, unit.province_name,
        unit.province_code_2025, unit.province_name_2025, issue.issue_code, issue.issue,
        refunds.refund_id as case_id, refunds.dossier_code, refunds.transaction_id,
        refunds.refund_id, refunds.requested_at as occurred_at, refunds.payment_amount,
        refunds.amount as refund_amount, null::integer as steps,
        case when issue.issue_code = 'refund_pending_over_limit' then refunds.days_pending end
            as days_pending
    from refunds
    cross join bounds
    cross join
        lateral (
            values
            (
                'refund_pending_over_limit',
                refunds.pending_at_end and refunds.days_pending > refunds.limit_days,
                concat(
                    'refund pending ', refunds.days_pending, ' days at the month end, beyond the ',
                    refunds.limit_days, '-day limit'
                )
            ),
            (
                'manual_refund', refunds.requested_in_month and refunds.method = 'manual',
                'refunded by hand: the national payment platform does not refund automatically'
            ),
            (
                'refund_failed', refunds.requested_in_month and refunds.status = 'failed',
                'the refund failed'
            ),
            (
                'refund_without_payment', refunds.requested_in_month and refunds.no_payment,
                'no successful payment matches the refund'
            )
        ) as issue (issue_code, applies, issue)
    left join lateral mart.province_at(refunds.province_code, refunds.requested_at) as unit on true
    where issue.applies
)

select * from final
