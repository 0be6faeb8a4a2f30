-- The newest source_updated_at in core: the instant the marts evaluate the current month and the
-- overdue list at, never the clock.
create or replace view mart.data_as_of as
select max(updated_at) as as_of_at
from (
    select max(source_updated_at) as updated_at from core.fact_dossier
    union all
    select max(source_updated_at) from core.fact_payment
    union all
    select max(source_updated_at) from core.fact_refund
) as newest
