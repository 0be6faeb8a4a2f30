-- Example queries for BI users (role bi_reader), as the README shows them. Each runs as written;
-- tests/integration/test_marts.py runs every one as bi_reader. Blocks start with "-- name:".

-- name: digitization_for_a_period
select
    province_code, province_name, sum(synced_received) as synced,
    mart.rate(sum(digitized_766), sum(synced_received)) as rate_766,
    mart.rate(sum(digitized_provincial), sum(dossiers_received)) as rate_provincial
from mart.monthly_compliance
where month >= date '2024-01-01' and month < date '2024-10-01'
group by province_code, province_name
order by rate_766 desc nulls last;

-- name: weak_agencies
select month, province_name, agency_name, rank_in_province, digitization_rate_766, weak_reason
from mart.agency_monthly_compliance
where is_weak
order by month desc, province_name asc, rank_in_province asc;

-- name: overdue_now_by_agency
-- grouped by code: the name is a label (several units may share one, and a name may be missing)
select
    province_name, agency_code, max(agency_name) as agency_name, overdue_kind,
    count(*) as dossiers, round(avg(working_days_overdue), 1) as avg_working_days_late
from mart.overdue_dossiers_current
where overdue_766
group by province_name, agency_code, overdue_kind
order by dossiers desc;

-- name: index766_cross_check
select month, province_name, indicator, our_rate, portal_rate, diff_pp, status, explanation
from mart.index766_reconciliation
where status <> 'not published'
order by month, province_name, indicator;

-- name: refunds_by_2025_unit
select
    province_name_2025, month, refunds_required, refunds_manual, refunds_pending_over_limit,
    amount_pending_over_limit, avg_days_to_refund
from mart.payment_refund_summary_by_2025_unit
order by month, province_name_2025;
