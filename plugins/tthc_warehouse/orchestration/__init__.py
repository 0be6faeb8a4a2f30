"""The steps the DAGs call (nightly load, mart rebuilds) and the DAGs' shared defaults.

This module itself imports no Airflow, so local tooling can read the pool's name cheaply.
"""

WAREHOUSE_POOL = "warehouse_writers"  # caps concurrent warehouse writers
WAREHOUSE_POOL_SLOTS = 4
