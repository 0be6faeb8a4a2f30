-- Monthly report: the weakest agencies of %(month)s (flagged weak, lowest digitization first),
-- with the portal's Index 766 total for the same unit (mart.index766_scorecard, group ALL) beside
-- our rates; null when the portal publishes no unit mapped to the agency.
with portal as (
    select agency_code, portal_score as portal_total_score, max_score as portal_max_score
    from mart.index766_scorecard
    where month = %(month)s and indicator_group = 'ALL' and agency_code is not null
)

select
    weak.province_name,
    weak.agency_code,
    weak.agency_name,
    weak.dossiers_received,
    weak.digitization_rate_766,
    weak.on_time_rate_766,
    portal.portal_total_score,
    weak.rank_in_province,
    weak.weak_reason
from mart.agency_monthly_compliance as weak
left join portal using (agency_code)
where weak.month = %(month)s and weak.is_weak
order by weak.digitization_rate_766 asc nulls first, weak.dossiers_received desc
limit 15
