-- One row per province (as it was when the dossier was received) for the month %(month)s: the
-- month's figures are the sums of mart.agency_monthly_counts (rebuilt just before, in the same
-- transaction; the columns monthly_compliance.yml marks rollup: sum, the list the 2025 units sum
-- too), so province and agency figures always agree. Counting rules: see
-- agency_monthly_counts.sql. Year to date: the flows counted again from core over
-- January..%(month)s by the same list (year_to_date_counts.sql, which the rebuild reads into
-- pg_temp.year_to_date_counts first); the month-end stock (in progress, overdue) is this month's.
-- A month reads no other month, so months can be rebuilt in any order.
-- Rates and meets_* are generated columns; rank 1 is the best 766 digitization rate.
with agency as (
    select *
    from mart.agency_monthly_counts
    where month = %(month)s::date
),

month_counts as (
    select
        province_code,
        max(province_name) as province_name,
        max(province_code_2025) as province_code_2025,
        max(province_name_2025) as province_name_2025,
        max(digitization_target_pct) as digitization_target_pct,
        {monthly_compliance_sums}
    from agency
    group by province_code
),

final as (
    select
        *,
        %(month)s::date as month,
        rank() over (
            order by mart.rate(digitized_766, synced_received) desc nulls last
        ) as digitization_rank,
        rank() over (
            order by mart.rate(digitized_766_ytd, synced_received_ytd) desc nulls last
        ) as digitization_rank_ytd
    from month_counts
    inner join pg_temp.year_to_date_counts using (province_code)
)

-- the year-to-date columns come from the temporary table
select * from final  -- noqa: AM04
