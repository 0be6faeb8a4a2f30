-- The flows a window counts, as one select list that marts/builder.py puts in
-- agency_monthly_counts.sql for the month and in monthly_compliance.sql for January to the
-- month (each name then ends in _ytd). The rows counted carry the flags of mart.dossier_flags
-- and two of the window: received (received in the window, not status 3) and finished
-- (finished in the window). Digitization, online submission and online payment count the
-- received cohort; 766 digitization counts synced dossiers only; the provincial count is
-- components digitized over all received. On time and the kind of result count the finished.
count(*) filter (where received) as dossiers_received{suffix},
count(*) filter (where received and synced_to_portal) as synced_received{suffix},
count(*) filter (where received and is_digitized_766) as digitized_766{suffix},
count(*) filter (where received and components_digitized) as digitized_provincial{suffix},
count(*) filter (where received and is_online) as online_received{suffix},
count(*) filter (where received and is_fee_bearing) as fee_bearing_received{suffix},
count(*) filter (where received and is_paid_online) as paid_online_received{suffix},
count(*) filter (where finished) as dossiers_finished{suffix},
count(*) filter (where finished and on_time_766) as finished_on_time_766{suffix},
count(*) filter (where finished and on_time_provincial) as finished_on_time_provincial{suffix},
count(*) filter (where finished and is_paper_finished) as paper_result_finished{suffix},
count(*) filter (where finished and is_e_result_finished) as e_result_finished{suffix}
