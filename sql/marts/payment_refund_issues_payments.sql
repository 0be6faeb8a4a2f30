-- Payment problem cases for the month %(month)s, by paid_at (mart.payment_refund_issues, part 2
-- of 2; part 1 is payment_refund_issues_refunds.sql). Parameters come from ref.setting.
-- * refund_never_requested: a successful payment for a dossier that ended in status 3, 7 or 8
--   (not accepted, withdrawn, stopped) with no refund for that transaction (or for the dossier,
--   when a refund names no transaction), in the newest data, once refund_request_grace_days have
--   passed since the dossier ended (DOMAIN §6.6: requests come days after the decision). The
--   end is when its status history first shows that status: the earliest of the versions core's
--   row replaced in that status and core's row itself (mart.dossier_status_history); the grace
--   is counted to mart.data_as_of, never the clock.
-- * excessive_steps: a successful payment with payment_excessive_steps steps or more (DOMAIN
--   §6.7: failed and abandoned attempts are counted in mart.payment_refund_summary).
with bounds as not materialized (
    select * from mart.month_bounds(%(month)s)
),

ended as (
    select
        dossier.dossier_code,
        dossier.status,
        least((
            select min(event.event_at)
            from core.fact_dossier_status_event as event
            where event.dossier_code = dossier.dossier_code and event.status = dossier.status
        ), dossier.source_updated_at)
        + make_interval(days => grace.value::integer) <= as_of.as_of_at as past_grace
    from core.fact_dossier as dossier
    cross join mart.data_as_of as as_of
    inner join ref.setting as grace on grace.name = 'refund_request_grace_days'
    where dossier.status in (3, 7, 8)
),

payments as (
    select
        payment.*,
        dossier.status as dossier_status,
        coalesce(dossier.past_grace, false) as past_grace,
        setting.value as excessive_steps,
        not exists (
            select 1
            from core.fact_refund as refund
            where mart.refund_matches_payment(
                refund.transaction_id, refund.dossier_code,
                payment.transaction_id, payment.dossier_code
            )
        ) as no_refund
    from core.fact_payment as payment
    cross join bounds
    inner join ref.setting as setting on setting.name = 'payment_excessive_steps'
    left join ended as dossier on payment.dossier_code = dossier.dossier_code
    where payment.paid_at >= bounds.month and payment.paid_at < bounds.month_end
),

final as (
    select
        bounds.month, bounds.as_of, payments.province_code, unit.province_name,
        unit.province_code_2025, unit.province_name_2025, issue.issue_code, issue.issue,
        payments.transaction_id as case_id, payments.dossier_code, payments.transaction_id,
        null::text as refund_id, payments.paid_at as occurred_at,
        payments.amount as payment_amount, null::bigint as refund_amount,
        null::integer as days_pending, payments.steps
    from payments
    cross join bounds
    cross join
        lateral (
            values
            (
                'refund_never_requested',
                payments.status = 'success' and payments.past_grace and payments.no_refund,
                concat(
                    'the dossier ended in status ', payments.dossier_status,
                    ' after a successful payment and no refund was requested'
                )
            ),
            (
                'excessive_steps',
                payments.status = 'success' and payments.steps >= payments.excessive_steps,
                concat(
                    'the payment took ', payments.steps, ' steps (', payments.excessive_steps,
                    ' or more is excessive)'
                )
            )
        ) as issue (issue_code, applies, issue)
    left join lateral mart.province_at(payments.province_code, payments.paid_at) as unit on true
    where issue.applies
)

select * from final
