-- New codes staged more than once (not in {known}), with how many times: only when the
-- insert-only path met one. Only these are ranked below, so even then the batch is not sorted.
create temporary table {duplicates} on commit drop as
select staged.dossier_code, count(*) as copies
from {staging} as staged
where {codes}
group by staged.dossier_code
having count(*) > 1
