# syntax=docker/dockerfile:1
# Lotse's production image (README: "Running Lotse in production").
#   docker build -t lotse .
#   docker compose up -d                                   webhook mode: 2 replicas, Caddy, PostgreSQL
#   docker compose -f compose.polling.yaml up -d           polling mode: 1 process, SQLite on a volume
# scripts/dockerfile_steps.py runs every RUN, HEALTHCHECK and CMD of this file outside a container (.ci/run does),
# so keep the commands plain shell and list every directory of the image in that script's MAPPED table.

# -- build: a virtual environment with Lotse and its dependencies; the catalogs compiled ---------------------------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY locales ./locales
# Editable, so that the code stays beside knowledge/ and locales/ in /app, where bot/config.py and bot/core/i18n.py
# look for them; the venv only points there (both stages have the same paths).
RUN --mount=type=cache,target=/root/.cache/pip python -m venv /opt/venv && /opt/venv/bin/pip install --editable .
# The .mo files are used while they are not older than their .po (bot/core/i18n.py); byte code for a read-only /app.
RUN /opt/venv/bin/pybabel compile --domain messages --directory locales --statistics \
    && /opt/venv/bin/python -m compileall -q bot

# -- runtime: the venv and /app, a user without a login, the matcher trained once for the baked-in knowledge -------
FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    KNOWLEDGE_DIR=/app/knowledge DATABASE_URL=sqlite:////data/lotse.db LOTSE_CACHE_DIR=/var/cache/lotse
# /data: the SQLite file (a volume); /var/cache/lotse: the trained matcher, writable so that a knowledge folder
# mounted over /app/knowledge is trained once per container (mount a volume there to keep it across containers).
RUN groupadd --gid 10001 lotse \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin lotse \
    && install -d -o 10001 -g 10001 /data /var/cache/lotse
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
# Last, so that a knowledge edit rebuilds only what follows. Override it with a volume: -v ./knowledge:/app/knowledge:ro
COPY knowledge /app/knowledge
WORKDIR /app
USER lotse
# Refuse an image with broken knowledge; train the matcher into the cache so that a start only loads it.
RUN python -m bot check knowledge --errors-only \
    && python -m bot ask "Wo finde ich einen Arzt?" --lang de --json >/dev/null
VOLUME ["/data"]
# 8443: the webhook (LOTSE_WEBHOOK_PORT, webhook mode only); 8080: /healthz and /metrics (LOTSE_HTTP_PORT).
EXPOSE 8443 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["python", "-m", "bot", "health"]
CMD ["python", "-m", "bot", "run"]
