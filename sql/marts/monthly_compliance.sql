-- One row per province (as it was when the dossier was received) for the month %(month)s.
-- Digitization rate, Decision 766 indicator 4.2: among dossiers synced to the national portal,
-- those whose components were digitized and, when finished with a paper result, that have an
-- electronic result.
with dossiers as (
    select
        province_code,
        received_at,
        synced_to_portal,
        components_digitized
        and (not (requires_paper_result and status in (9, 10)) or result_digitized)
            as digitized_766
    from core.fact_dossier
    where received_at >= %(month)s::date
        and received_at < (%(month)s::date + interval '1 month')
),

per_province as (
    select
        province_code,
        count(*) as dossiers_received,
        count(*) filter (where synced_to_portal) as synced_received,
        count(*) filter (where synced_to_portal and digitized_766) as digitized_766
    from dossiers
    group by province_code
),

final as (
    select
        per_province.province_code,
        coalesce(province.name, per_province.province_code) as province_name,
        %(month)s::date as month,
        per_province.dossiers_received,
        per_province.digitized_766,
        per_province.synced_received,
        round(100.0 * per_province.digitized_766 / nullif(per_province.synced_received, 0), 2)
            as digitization_rate_766
    from per_province
    left join ref.province as province
        on province.province_code = per_province.province_code
        and province.valid_from <= %(month)s::date
        and (province.valid_to is null or province.valid_to > %(month)s::date)
)

select * from final
