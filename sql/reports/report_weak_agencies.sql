-- Monthly report: the weakest agencies of %(month)s (flagged weak, lowest digitization first).
select
    province_name,
    agency_code,
    agency_name,
    dossiers_received,
    digitization_rate_766,
    on_time_rate_766,
    rank_in_province,
    weak_reason
from mart.agency_monthly_compliance
where month = %(month)s and is_weak
order by digitization_rate_766 asc nulls first, dossiers_received desc
limit 15
