-- Index 766 per unit, group and metric for %(month)s: the portal's figures (latest capture), our
-- recomputation from its own counts (core recomputed_*, by ref.index766_scoring_rule) and, where
-- we hold the dossiers, our like-for-like figure: the province node from mart.monthly_compliance,
-- units mapped in ref.portal_unit from mart.agency_monthly_counts. Digitized components and the
-- e-result are compared separately; online submission is shown over the portal's own denominator.
-- Tolerance: ref.setting index766_score_tolerance points (a group ratio derived from its total:
-- tolerance x 100 / max); our figures: reconciliation_tolerance_pp.
with snapshot as (
    select distinct on (unit_code, indicator_group, indicator_code) *
    from core.fact_index766_snapshot
    where period_type = 'month' and period_start = %(month)s::date and province_code is not null
    order by unit_code asc, indicator_group asc, indicator_code asc, captured_at desc
),

units as (
    select
        province_code, coalesce(department_id, unit_code) as unit_key,
        max(unit_code) filter (where unit_code ~ '^H[0-9]') as h_code
    from snapshot
    group by province_code, coalesce(department_id, unit_code)
),

mapped as (
    select
        units.*, (
            select p.agency_code from ref.portal_unit as p
            where
                p.province_code = units.province_code
                and (p.unit_code = units.h_code or p.department_id = units.unit_key)
            order by p.agency_code nulls last limit 1
        ) as agency_code
    from units
),

-- Our counts, the province row (agency_code null) and the agency rows, read through jsonb so
-- that the two tables' shared count columns are named once.
counts as (
    select to_jsonb(province) as counts
    from (
        select null as agency_code, c.* from mart.monthly_compliance as c
        where c.month = %(month)s::date
    ) as province
    union all
    select to_jsonb(a) from mart.agency_monthly_counts as a
    where a.month = %(month)s::date
),

ours as (
    select o.province_code, o.agency_code, figure.*
    from counts
    cross join
        lateral jsonb_to_record(counts.counts) as o (
            province_code text, agency_code text, finished_on_time_766 int,
            in_progress_at_month_end int, in_progress_overdue_766 int, dossiers_finished int,
            synced_received int, components_not_digitized int, e_result_finished int,
            paid_online_received int, fee_bearing_received int, online_received int,
            dossiers_received int
        )
    cross join
        lateral (
            values
            (
                'dvc-progress', 'ON_TIME',
                o.finished_on_time_766 + o.in_progress_at_month_end - o.in_progress_overdue_766,
                o.dossiers_finished + o.in_progress_at_month_end
            ),
            (
                'dossier-digitized', 'SO_HOA_GIAY_TO_GIAI_QUYET',
                o.synced_received - o.components_not_digitized, o.synced_received
            ),
            (
                'dossier-digitized', 'ORIGINAL_RESULT_AVAILABLE',
                o.e_result_finished, o.synced_received
            ),
            ('online-payment', 'ONLINE_PAYMENT', o.paid_online_received, o.fee_bearing_received),
            ('provide-online', 'ONLINE_SUBMISSION', o.online_received, o.dossiers_received),
            ('transparency', 'DOSSIER_SYNC', o.synced_received, o.dossiers_received)
        ) as figure (indicator_group, indicator_code, our_numerator, our_denominator)
),

tolerance as (
    select
        max(value) filter (where name = 'index766_score_tolerance') as tol,
        max(value) filter (where name = 'reconciliation_tolerance_pp') as tol_pp
    from ref.setting
),

compared as (
    select
        s.*, u.unit_key, u.h_code, u.agency_code, o.our_numerator, o.our_denominator,
        mart.rate(o.our_numerator, o.our_denominator) as our_rate,
        coalesce(s.ratio, s.recomputed_ratio) as portal_rate,
        coalesce(s.ratio, s.recomputed_ratio) - mart.rate(o.our_numerator, o.our_denominator)
            as our_diff,
        tolerance.tol_pp,
        coalesce(abs(s.recomputed_score - s.score) > tolerance.tol, false)
        or coalesce(
            abs(s.recomputed_ratio - s.ratio) > tolerance.tol * case
                when s.indicator_code = 'TOTAL' then 100 / nullif(s.max_score, 0) else 1
            end,
            false
        ) as recompute_differs
    from snapshot as s
    inner join mapped as u
        on s.province_code = u.province_code and u.unit_key = coalesce(s.department_id, s.unit_code)
    left join ours as o
        on
            s.province_code = o.province_code and s.indicator_group = o.indicator_group
            and s.indicator_code = o.indicator_code
            and (u.agency_code = o.agency_code or (o.agency_code is null and s.parent_code is null))
    cross join tolerance
)

select
    compared.province_code, province.name as province_name, %(month)s::date as month, unit_key,
    h_code as unit_code, department_id, unit_name, unit_level, parent_code is null as is_province,
    agency_code, indicator_group, indicator_code, max_score, numerator as portal_numerator,
    denominator as portal_denominator, ratio as portal_ratio, score as portal_score,
    recomputed_ratio, recomputed_score, recomputed_ratio - ratio as recomputed_diff_ratio,
    recomputed_score - score as recomputed_diff_score, our_numerator, our_denominator, our_rate,
    our_diff as our_diff_pp, data_quality_status, captured_at as portal_captured_at,
    case
        when data_quality_status like 'TEMP\_%%' then 'provisional'
        when recompute_differs then 'mismatch'
        when
            abs(our_diff) > tol_pp and numerator = our_numerator
            and denominator = our_denominator then 'mismatch'
        when
            abs(our_diff) > tol_pp or (recomputed_score is null and score is not null)
            or (ratio is null and recomputed_ratio is not null) then 'explained'
        else 'match'
    end as status,
    concat_ws(
        '; ',
        'portal flag ' || data_quality_status,
        -- a part with a missing figure is left out
        case when recompute_differs and recomputed_score - score is not null then concat(
            'the portal''s figure does not follow from its own counts by the reference rules (',
            recomputed_score - score, ' points)'
        ) end,
        case
            when recomputed_score is null and score is not null
                then
                    'the portal publishes this score only; no known formula fits its counts'
        end,
        case
            when ratio is null and recomputed_ratio is not null
                then
                    'the portal publishes no ratio here; recomputed from its counts'
        end,
        case when abs(our_diff) > tol_pp and denominator is not null then concat(
            'portal ', portal_rate, ' %% over ', denominator, ' (its own population), ours ',
            our_rate, ' %% over ', our_denominator, ': ', denominator - our_denominator,
            ' dossiers counted differently (sync lag, receiving desk vs processing agency, or a ',
            'different definition)'
        ) end
    ) as explanation
from compared
left join lateral (
    select p.name from ref.province as p
    where p.province_code = compared.province_code
    order by p.valid_from desc limit 1
) as province on true
