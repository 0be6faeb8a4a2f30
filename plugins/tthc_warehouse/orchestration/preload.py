"""The libraries an Airflow worker imports once, before it forks task processes.

A task process forked from a worker that has imported them pays nothing for their import: a
validate task would otherwise spend about 6 s of CPU importing Great Expectations. LocalExecutor:
``[core] mp_forkserver_preload`` (local/airflow_env.py). CeleryExecutor: Celery's ``imports``
(orchestration/celery_config.py), imported by a worker before it forks its pool.
No Airflow import here: the local tooling reads this before Airflow's configuration is set.
"""

MODULES = ("great_expectations", "pandas", "psycopg")
