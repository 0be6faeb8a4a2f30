-- The history of the codes core already holds ({codes}: in {known}): every distinct status a
-- dossier was seen in, at the time the source recorded it, that core does not have yet. Also the
-- history of new codes when the insert-only path met a duplicate (then {codes} is the rest).
insert into core.fact_dossier_status_event (dossier_code, status, event_at, batch_id)
select distinct staged.dossier_code, staged.status, staged.source_updated_at, %(batch_id)s
from {staging} as staged
where {codes}
on conflict (dossier_code, event_at, status) do nothing
