-- Dossier codes staged more than once in this batch (usually none): only these need ranking,
-- so a batch without duplicates is never sorted. Null codes never reach publish (critical check).
create temporary table {duplicates} on commit drop as
select dossier_code
from {staging}
where dossier_code is not null
group by dossier_code
having count(*) > 1
