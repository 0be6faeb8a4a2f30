-- Every distinct status a dossier was seen in, at the time the source recorded it: the history.
-- Only codes staged more than once ({duplicates}) can repeat an event, so only they are
-- de-duplicated.
with events as (
    select dossier_code, status, source_updated_at
    from {staging}
    where dossier_code not in (select dossier_code from {duplicates})
    union all
    select distinct dossier_code, status, source_updated_at
    from {staging}
    where dossier_code in (select dossier_code from {duplicates})
)

insert into core.fact_dossier_status_event (dossier_code, status, event_at, batch_id)
select dossier_code, status, source_updated_at, %(batch_id)s
from events
on conflict (dossier_code, event_at, status) do nothing
