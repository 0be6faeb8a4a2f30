# Airflow image for the TTHC warehouse pipeline: the official image at the exact apache-airflow
# version of uv.lock, plus the project's locked dependencies and the `tthc` CLI.
# tests/unit/test_compose.py checks that the FROM tag below matches uv.lock.

# 1. uv.lock -> requirements.txt (exact pins, no dev tools). pgserver, the embedded PostgreSQL of
#    `make demo`, is left out: in this stack the warehouse is the `warehouse` service.
FROM python:3.12-slim-bookworm AS requirements
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
WORKDIR /src
COPY pyproject.toml uv.lock ./
RUN uv export --frozen --no-dev --no-emit-project --no-emit-package pgserver --no-hashes \
        -o requirements.txt

# 2. The Airflow image. As the docs ask: install as the `airflow` user (never root) and pin
#    apache-airflow to the image's own version so the install can never up- or downgrade Airflow.
FROM apache/airflow:3.3.2-python3.12
USER airflow
COPY --from=requirements /src/requirements.txt /tmp/requirements.txt
RUN uv pip install --no-cache "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/requirements.txt

# 3. The project, laid out as in the repository with /opt/airflow (= AIRFLOW_HOME) as its root, so
#    that TTHC_HOME=/opt/airflow resolves sql/, expectations/ and config/. Installed editable
#    without dependencies: `tthc` exists and imports tthc_warehouse from /opt/airflow/plugins, the
#    same folder docker-compose.yml mounts in development (the copies below serve a worker that
#    runs without the mounts).
COPY --chown=airflow:root pyproject.toml uv.lock README.md /opt/airflow/
COPY --chown=airflow:root plugins/ /opt/airflow/plugins/
RUN uv pip install --no-cache --no-deps --editable /opt/airflow
COPY --chown=airflow:root dags/ /opt/airflow/dags/
COPY --chown=airflow:root sql/ /opt/airflow/sql/
COPY --chown=airflow:root expectations/ /opt/airflow/expectations/
COPY --chown=airflow:root config/ /opt/airflow/config/
RUN mkdir -p /opt/airflow/data/landing /opt/airflow/data/inbox

ENV TTHC_HOME=/opt/airflow \
    TTHC_DATA_DIR=/opt/airflow/data \
    GX_ANALYTICS_ENABLED=false
