# Lotse: production image. Build: docker build -t lotse .   Run: docker run -e TELEGRAM_BOT_TOKEN=... lotse
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/lotse.db
WORKDIR /app

# Installed in place (editable) so that knowledge/ and locales/ are found beside the code.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY locales ./locales
RUN pip install -e . \
    && python -m bot check knowledge --errors-only \
    && useradd --create-home --uid 10001 lotse && mkdir -p /data && chown lotse /data

USER lotse
# The database lives on a volume the lotse user can write (/app is read-only to it); PostgreSQL via DATABASE_URL.
VOLUME ["/data"]
# Webhook mode listens here (LOTSE_WEBHOOK_PORT); polling mode needs no port.
EXPOSE 8443
CMD ["python", "-m", "bot", "run"]
