-- The update path, first: the version core holds of each code the batch stages again (in
-- {known}) goes into the history when a newer staged version is about to replace it
-- (fact_dossier_update.sql). Until then a dossier's row in core.fact_dossier is its newest
-- version and the history table holds only older ones (fact_dossier_status_event.sql);
-- mart.dossier_status_history reads both.
insert into core.fact_dossier_status_event (dossier_code, status, event_at, batch_id)
select fact.dossier_code, fact.status, fact.source_updated_at, fact.batch_id
from {known} as known
inner join core.fact_dossier as fact on known.dossier_code = fact.dossier_code
where
    exists (
        select from {staging} as staged
        where
            staged.dossier_code = fact.dossier_code
            and staged.source_updated_at > fact.source_updated_at
    )
on conflict (dossier_code, event_at, status) do nothing
