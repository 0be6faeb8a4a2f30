"""Celery settings of the workers: Airflow's defaults, and the libraries the tasks use imported
once per worker, before it forks its pool (orchestration/preload.py).

Set ``[celery] celery_config_options`` (``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS``) to
``tthc_warehouse.orchestration.celery_config.CELERY_CONFIG``, as docker-compose.yml does.
"""

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

from tthc_warehouse.orchestration.preload import MODULES

CELERY_CONFIG = {**DEFAULT_CELERY_CONFIG, "imports": MODULES}
