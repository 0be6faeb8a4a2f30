-- The 100-point total per unit for %(month)s (group ALL), from the group rows just built in
-- mart.index766_scorecard: the portal's six group scores added up, beside the same sum with our
-- recomputation where the rules allow (online services: the portal's own score, its formula is
-- unknown). A group the portal did not publish for a unit is a 'not published' row, not a zero.
with groups as (
    select distinct indicator_group
    from ref.index766_scoring_rule
),

totals as (
    select *
    from mart.index766_scorecard
    where month = %(month)s::date and indicator_code = 'TOTAL'
),

units as (
    select distinct on (province_code, unit_key)
        province_code, province_name, unit_key, unit_code, department_id, unit_name, unit_level,
        is_province, agency_code
    from totals
    order by province_code, unit_key, unit_code nulls last
),

missing as (
    select units.province_code, units.unit_key, groups.indicator_group
    from units
    cross join groups
    where not exists (
        select from totals
        where
            totals.province_code = units.province_code and totals.unit_key = units.unit_key
            and totals.indicator_group = groups.indicator_group
    )
),

summed as (
    select
        province_code, unit_key,
        sum(portal_score) as portal_score,
        sum(coalesce(recomputed_score, portal_score)) as recomputed_score,
        sum(max_score) as max_score,
        count(*) as groups_published,
        string_agg(indicator_group, ', ' order by indicator_group)
        filter (where recomputed_score is null) as published_only,
        max(portal_captured_at) as portal_captured_at
    from totals
    group by province_code, unit_key
),

final as (
    select
        units.*, %(month)s::date as month, 'ALL' as indicator_group, 'TOTAL' as indicator_code,
        summed.max_score, summed.portal_score, summed.recomputed_score,
        mart.rate(summed.portal_score, summed.max_score) as portal_ratio,
        mart.rate(summed.recomputed_score, summed.max_score) as recomputed_ratio,
        summed.recomputed_score - summed.portal_score as recomputed_diff_score,
        summed.portal_captured_at, null::numeric as portal_numerator,
        null::numeric as portal_denominator, null::numeric as recomputed_diff_ratio,
        null::integer as our_numerator, null::integer as our_denominator,
        null::numeric as our_rate, null::numeric as our_diff_pp, null as data_quality_status,
        case
            when summed.groups_published < 6 then 'not published'
            when
                abs(summed.recomputed_score - summed.portal_score)
                > 0.01 * summed.groups_published then 'mismatch'
            when summed.published_only is not null then 'explained'
            else 'match'
        end as status,
        concat_ws(
            '; ', summed.groups_published || ' of 6 groups published',
            'published scores only: ' || summed.published_only,
            'not published: ' || (
                select string_agg(m.indicator_group, ', ') from missing as m
                where m.province_code = units.province_code and m.unit_key = units.unit_key
            )
        )
            as explanation
    from units
    inner join summed using (province_code, unit_key)
)

select * from final
