-- Digitization rate (Decision 766, indicator 4.2) per province over [%(start)s, %(end)s),
-- from the monthly mart's numerators and denominators, beside the target in force at the end.
with period as (
    select
        province_code,
        max(province_name) as province_name,
        sum(digitized_766) as digitized_766,
        sum(synced_received) as synced_received
    from mart.monthly_compliance
    where month >= %(start)s and month < %(end)s
    group by province_code
),

target as (
    select value_pct
    from ref.target
    where
        indicator = 'digitization_766'
        and valid_from < %(end)s
        and (valid_to is null or valid_to >= %(end)s)
    order by valid_from desc
    limit 1
),

final as (
    select
        period.province_code,
        period.province_name,
        period.synced_received,
        period.digitized_766,
        mart.rate(period.digitized_766, period.synced_received) as digitization_rate_766,
        target.value_pct as target_pct,
        mart.rate(period.digitized_766, period.synced_received) >= target.value_pct
            as meets_target
    from period
    cross join target
)

select * from final
order by digitization_rate_766 desc
