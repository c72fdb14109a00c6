# syntax=docker/dockerfile:1
# Production image for every app service in compose.yaml (web, worker, projector, scheduler,
# migrate): python:3.11-slim + the locked dependencies from uv.lock + front-end assets from
# package-lock.json, built in a node stage by the same script the dev set-up uses.

# --- front-end assets (htmx, alpine, pico) -------------------------------------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/build_assets.sh scripts/build_assets.sh
RUN bash scripts/build_assets.sh

# --- application ---------------------------------------------------------------------------
FROM python:3.11-slim AS app

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    RETAGUARDA_ENV=production \
    RETAGUARDA_HOST=0.0.0.0 \
    RETAGUARDA_PORT=8000 \
    RETAGUARDA_VAR_DIR=/app/var

RUN python -m pip install --no-cache-dir --root-user-action=ignore 'uv==0.13.9' \
 && useradd --system --create-home --uid 10001 --user-group retaguarda

WORKDIR /app

# Dependencies first (cached until uv.lock or pyproject.toml change).
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-install-project

# Then the code and the vendor assets. The project is installed editable (uv's default), so
# it runs from /app/src and finds its templates, static files (incl. the gitignored vendor/)
# and the Alembic migrations in the source tree.
COPY . .
COPY --from=assets /app/src/retaguarda/web/static/vendor/ src/retaguarda/web/static/vendor/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen \
 && mkdir -p /app/var \
 && chown -R retaguarda:retaguarda /app/var

USER retaguarda
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('RETAGUARDA_PORT', '8000'), timeout=4)"]
CMD ["retaguarda", "web"]
