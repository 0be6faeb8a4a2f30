-- Months of receipt whose figures a batch can change: the staged rows' months ({described}) and,
-- for dossiers already in core ({known}), the month they were counted in until now.
select month
from {described}
where month is not null
union
select date_trunc('month', received_at)::date
from {known}
where received_at is not null
order by month
