-- Monthly report: our Decision-766 figures beside the portal's published snapshot for %(month)s
-- (indicators the portal did not publish are left out).
select
    province_name,
    indicator,
    our_rate,
    portal_rate,
    diff_pp,
    status,
    received_not_synced,
    e_result_missing,
    provincial_rate,
    rate_766,
    explanation
from mart.index766_reconciliation
where month = %(month)s and status <> 'not published'
order by status desc, abs(diff_pp) desc nulls last, province_name
