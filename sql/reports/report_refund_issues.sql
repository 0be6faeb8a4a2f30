-- Monthly report: payment and refund problem cases of %(month)s per province and kind.
select
    province_name,
    issue_code,
    min(issue) as issue,
    count(*) as cases,
    coalesce(sum(refund_amount), 0) as refund_amount,
    max(days_pending) as longest_pending_days
from mart.payment_refund_issues
where month = %(month)s
group by province_name, issue_code
order by cases desc, province_name, issue_code
