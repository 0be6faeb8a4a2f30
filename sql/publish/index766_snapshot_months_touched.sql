-- Months whose published 766 figures a batch of portal snapshots brings.
select distinct period_start as month
from {staging}
where period_type = 'month'
order by month
