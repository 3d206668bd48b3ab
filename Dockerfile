# TicketPilot: one container behind a reverse proxy. PostgreSQL and Redis are external (see docker-compose.yml).
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# A fixed numeric id, so Kubernetes can check runAsNonRoot (deploy/kubernetes/deployment.yaml runs as 10001).
RUN groupadd --system --gid 10001 ticketpilot \
 && useradd --system --uid 10001 --gid ticketpilot --home /app ticketpilot

COPY pyproject.toml README.md ./
COPY ticketpilot ./ticketpilot
RUN pip install .

COPY main.py config.toml ./
COPY playbooks ./playbooks
RUN chown -R ticketpilot:ticketpilot /app

USER 10001:10001
ENV TICKETPILOT_HTTP__HOST=0.0.0.0 \
    TICKETPILOT_HTTP__PORT=8080 \
    TICKETPILOT_LOGGING__FORMAT=json
EXPOSE 8080

HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=2).status == 200 else 1)"

ENTRYPOINT ["python", "main.py"]
CMD ["serve"]
