-- Every distinct status a dossier was seen in, at the time the source recorded it: the history.
insert into core.fact_dossier_status_event (dossier_code, status, event_at, batch_id)
select distinct dossier_code, status, source_updated_at, %(batch_id)s
from {staging}
on conflict (dossier_code, event_at, status) do nothing
