-- Monthly report: payment and refund problem cases of %(month)s, per kind and province.
select
    issue_code,
    province_name,
    count(*) as cases,
    coalesce(sum(refund_amount), 0)::bigint as refund_amount,
    max(days_pending) as longest_pending_days
from mart.payment_refund_issues
where month = %(month)s
group by issue_code, province_name
order by issue_code asc, cases desc, province_name asc
