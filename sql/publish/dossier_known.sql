-- The batch's codes core already holds, with the month of receipt each was counted in until now
-- (a temporary table, dropped when the publish commits; empty on a first load, when the join
-- reads nothing of the batch). These take the update path; every other code is new to core.
create temporary table {known} on commit drop as
select distinct core.dossier_code, core.received_at
from {staging} as staged
inner join core.fact_dossier as core on staged.dossier_code = core.dossier_code
