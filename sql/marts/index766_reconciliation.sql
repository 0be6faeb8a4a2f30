-- Our indicators for the month %(month)s beside the Index 766 figures the national portal
-- published (core.fact_index766_snapshot: province node = parent_code null, province_code = our
-- statistics code; period_type 'month'; the latest captured_at per province and indicator).
-- Ours come from mart.monthly_compliance (rebuilt just before, same transaction): digitization
-- is the 766 rule over synced dossiers; on time, online payment and online submission count all
-- received dossiers, synced or not. portal_rate is the published ratio, else its own counts.
-- Differences are portal minus ours. status: 'not published' when the portal gave no rate,
-- 'match' within ref.setting reconciliation_tolerance_pp, else 'mismatch'.
-- The digitization row carries the breakdown that bridges the two rules exactly:
--   digitized_766 = digitized_provincial - unsynced_digitized - e_result_missing
--   synced_received = dossiers_received - received_not_synced
with indicator (indicator, portal_indicator_group, portal_indicator_code) as (
    values
    ('digitization', 'dossier-digitized', 'SO_HOA_GIAY_TO_GIAI_QUYET'),
    ('on_time', 'dvc-progress', 'ON_TIME'),
    ('online_payment', 'online-payment', 'ONLINE_PAYMENT'),
    ('online_submission', 'provide-online', 'ONLINE_SUBMISSION')
),

compliance as (
    select *
    from mart.monthly_compliance
    where month = %(month)s::date
),

ours as (
    select
        compliance.province_code,
        compliance.province_name,
        compliance.province_code_2025,
        compliance.province_name_2025,
        measure.indicator,
        measure.our_numerator,
        measure.our_denominator,
        mart.rate(measure.our_numerator, measure.our_denominator) as our_rate
    from compliance
    cross join lateral (
        values
        ('digitization', compliance.digitized_766, compliance.synced_received),
        (
            'on_time', compliance.finished_on_time_766 + compliance.in_progress_at_month_end
            - compliance.in_progress_overdue_766,
            compliance.dossiers_finished + compliance.in_progress_at_month_end
        ),
        ('online_payment', compliance.paid_online_received, compliance.fee_bearing_received),
        ('online_submission', compliance.online_received, compliance.dossiers_received)
    ) as measure (indicator, our_numerator, our_denominator)
),

published as (
    select distinct on (snapshot.province_code, indicator.indicator)
        snapshot.province_code,
        indicator.indicator,
        snapshot.numerator as portal_numerator,
        snapshot.denominator as portal_denominator,
        coalesce(snapshot.ratio, mart.rate(snapshot.numerator, snapshot.denominator))
            as portal_rate,
        snapshot.captured_at as portal_captured_at
    from core.fact_index766_snapshot as snapshot
    inner join indicator
        on
            snapshot.indicator_group = indicator.portal_indicator_group
            and snapshot.indicator_code = indicator.portal_indicator_code
    where
        snapshot.parent_code is null
        and snapshot.province_code is not null
        and snapshot.period_type = 'month'
        and snapshot.period_start = %(month)s::date
    order by snapshot.province_code asc, indicator.indicator asc, snapshot.captured_at desc
),

breakdown as (
    select
        province_code,
        'digitization' as indicator,
        dossiers_received,
        dossiers_received - synced_received as received_not_synced,
        synced_received,
        digitized_provincial,
        unsynced_digitized,
        e_result_missing,
        components_not_digitized,
        digitized_766,
        digitization_rate_provincial as provincial_rate,
        digitization_rate_766 as rate_766
    from compliance
),

tolerance as (
    select value as tolerance_pp
    from ref.setting
    where name = 'reconciliation_tolerance_pp'
),

final as (
    select
        *,
        %(month)s::date as month,
        portal_rate - our_rate as diff_pp,
        portal_numerator - our_numerator as numerator_diff,
        portal_denominator - our_denominator as denominator_diff,
        case
            when portal_rate is null then 'not published'
            when abs(portal_rate - our_rate) <= tolerance_pp then 'match'
            else 'mismatch'
        end as status,
        case when indicator = 'digitization' and synced_received is not null then concat(
            'provincial rule ', provincial_rate, ' vs 766 rule ', rate_766, ': ',
            received_not_synced, ' received but not synced (', unsynced_digitized,
            ' of them digitized), ', e_result_missing, ' finished without the e-result, ',
            components_not_digitized, ' synced without digitized components',
            '; portal counted ' || portal_denominator || ' against our ' || synced_received
            || ' synced'
        ) end as explanation
    from ours
    full join published using (province_code, indicator)
    inner join indicator using (indicator)
    left join breakdown using (province_code, indicator)
    cross join tolerance
)

select * from final
