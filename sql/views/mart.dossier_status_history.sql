-- Every status each dossier was seen in, at the instant the source recorded it: the versions
-- core.fact_dossier's row replaced (core.fact_dossier_status_event) and that row itself. A
-- dossier published once has its row in core only; the history table gets a version when a
-- later batch stages the code again (sql/publish/fact_dossier_replaced_version.sql).
create or replace view mart.dossier_status_history as
select event.dossier_code, event.status, event.event_at
from core.fact_dossier_status_event as event
union
select fact.dossier_code, fact.status, fact.source_updated_at as event_at
from core.fact_dossier as fact
