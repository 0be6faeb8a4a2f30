-- The history: every distinct status a dossier was seen in, at the time the source recorded it,
-- that core does not have yet. For the codes core already holds (in {known}), and for the
-- new codes when the insert-only path met a code staged twice (not in {known}). Only the
-- rows of codes staged more than once can repeat an event, so only they are
-- de-duplicated.
insert into core.fact_dossier_status_event (dossier_code, status, event_at, batch_id)
select staged.dossier_code, staged.status, staged.source_updated_at, %(batch_id)s
from {staging} as staged
where {codes} and not {repeated}
union all
select distinct staged.dossier_code, staged.status, staged.source_updated_at, %(batch_id)s
from {staging} as staged
where {codes} and {repeated}
on conflict (dossier_code, event_at, status) do nothing
