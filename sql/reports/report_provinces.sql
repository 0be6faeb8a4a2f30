-- Monthly report: one row per province for %(month)s, month and year-to-date rates beside the
-- target.
select
    province_code,
    province_name,
    dossiers_received,
    dossiers_received_ytd,
    digitization_rate_766,
    digitization_rate_766_ytd,
    digitization_rate_provincial_ytd,
    digitization_target_pct,
    meets_digitization_target_ytd,
    digitization_rank_ytd,
    on_time_rate_766,
    on_time_rate_766_ytd,
    online_submission_rate_ytd,
    online_payment_rate_ytd,
    e_result_rate_ytd,
    in_progress_overdue_766
from mart.monthly_compliance
where month = %(month)s
order by digitization_rate_766_ytd desc nulls last, province_code asc
