# Yimen (一门通) application image: the Sanic API (`yimen serve`), the task worker
# (`yimen worker`) and the one-shot `yimen migrate` all run from this one image.
#
#   docker build -t yimen:local .
#
# Stage 1 builds everything into a virtualenv (some dependencies may compile on
# platforms without a wheel; the embedded PostgreSQL and Redis of `make run` are not installed).
# Stage 2 copies only that virtualenv onto a clean python:3.11-slim, without compilers.

FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Build-stage only; nothing from apt reaches the final image.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc make libc6-dev \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# Dependencies first, from pyproject.toml alone, so that this slow layer is reused
# while only the application code changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt

# Then the application itself (non-editable; package data such as static files and
# migrations travel inside the installed packages).
COPY backend ./backend
COPY mobile_api ./mobile_api
COPY storage ./storage
RUN pip install --no-cache-dir --no-deps . \
    && yimen --help > /dev/null


FROM python:3.11-slim AS runtime

LABEL org.opencontainers.image.title="yimen" \
      org.opencontainers.image.description="Yimen (一门通) township social-assistance intake backend"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    YIMEN_ENV=production \
    YIMEN_HOST=0.0.0.0 \
    YIMEN_PORT=8000 \
    YIMEN_DATA_DIR=/data

# Unprivileged user with a fixed uid/gid, so volume ownership is predictable.
# /data is owned by it, so a fresh named volume mounted there is writable too.
RUN groupadd --system --gid 10001 yimen \
    && useradd --system --uid 10001 --gid yimen --home-dir /app --shell /usr/sbin/nologin yimen \
    && mkdir -p /app /data \
    && chown yimen:yimen /app /data

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# Liveness only (/healthz). The slim image has no curl; urlopen raises (exit 1) on
# connection errors and on any non-2xx answer. Containers that do not serve HTTP
# (worker, migrate) disable this check in docker-compose.yml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["yimen", "serve", "--host", "0.0.0.0", "--port", "8000"]
