-- The history (core.fact_dossier_status_event): every distinct status a dossier was seen in, at
-- the time the source recorded it, but the version core holds, which its row in core.fact_dossier
-- keeps (mart.dossier_status_history reads both). Runs once core has the newest version: after
-- the update path for the codes core held before (in {known}; the version they replaced went in
-- first, fact_dossier_replaced_version.sql), and after the insert of the newest versions for new
-- codes staged twice (not in {known}). Only the rows of codes staged more than once can repeat
-- a version, so only they are de-duplicated.
insert into core.fact_dossier_status_event (dossier_code, status, event_at, batch_id)
select version.dossier_code, version.status, version.source_updated_at, %(batch_id)s
from (
    select staged.dossier_code, staged.status, staged.source_updated_at
    from {staging} as staged
    where {codes} and not {repeated}
    union all
    select distinct staged.dossier_code, staged.status, staged.source_updated_at
    from {staging} as staged
    where {codes} and {repeated}
) as version
where
    not exists (
        select from core.fact_dossier as fact
        where
            fact.dossier_code = version.dossier_code
            and fact.source_updated_at = version.source_updated_at
            and fact.status = version.status
    )
on conflict (dossier_code, event_at, status) do nothing
