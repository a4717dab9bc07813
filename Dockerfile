# DS Hub: the hub image (JupyterHub + the portal + configurable-http-proxy).
#   docker build -t dshub-hub:latest .          (or ./build.sh)
# BASE_IMAGE: any Debian 12 (bookworm) image; CI builds from a locally made one.
# Runs as the seed's users expect: config /srv/jupyterhub/jupyterhub_config.py, data in /data.
# Works with the legacy builder (no BuildKit-only syntax).
ARG BASE_IMAGE=debian:bookworm-slim

# --- The proxy, installed with npm in a throwaway stage so npm stays out of the image. -------
FROM ${BASE_IMAGE} AS proxy
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates nodejs npm \
 && rm -rf /var/lib/apt/lists/*
# build-ca.crt (optional, git-ignored): the CA of a TLS-intercepting egress. The pattern matches
# nothing when it is absent, and the COPY still succeeds thanks to pyproject.toml.
COPY pyproject.toml build-ca.cr[t] /tmp/build/
# Debian 12's node is 18: configurable-http-proxy 5 needs 20, 4.6 is the last line for 18.
RUN if [ -f /tmp/build/build-ca.crt ]; then export NODE_EXTRA_CA_CERTS=/tmp/build/build-ca.crt; fi \
 && npm install --global --prefix /opt/proxy --omit=dev --no-audit --no-fund \
      configurable-http-proxy@4.6.3 \
 && /opt/proxy/bin/configurable-http-proxy --version

# --- The hub's Python environment, built in a throwaway stage: PIP_INDEX_URL (which may hold
# credentials) is a build argument of this stage only, so it never reaches the hub image's
# history or environment; only /opt/hub is copied over. ---------------------------------------
FROM ${BASE_IMAGE} AS venv
ARG PIP_INDEX_URL=
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/opt/hub/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Pinned dependencies first, with the build tool the project itself needs later: this layer is
# reused until requirements-hub.txt or pyproject.toml changes. A dependency added to
# pyproject.toml but not yet pinned is still installed (the pins stay binding as constraints).
COPY requirements-hub.txt pyproject.toml build-ca.cr[t] /tmp/build/
RUN if [ -f /tmp/build/build-ca.crt ]; then export PIP_CERT=/tmp/build/build-ca.crt; fi \
 && if [ -n "$PIP_INDEX_URL" ]; then export PIP_INDEX_URL; else unset PIP_INDEX_URL; fi \
 && python3 -m venv /opt/hub \
 && pip install -r /tmp/build/requirements-hub.txt setuptools==84.2.1 \
 && python3 -c 'import tomllib; print(*tomllib.load(open("/tmp/build/pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' > /tmp/build/dependencies.txt \
 && pip install -c /tmp/build/requirements-hub.txt -r /tmp/build/dependencies.txt

# --- The hub. ---------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates nodejs python3 python3-venv \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data /srv/jupyterhub
COPY --from=proxy /opt/proxy /opt/proxy
COPY --from=venv /opt/hub /opt/hub
# The project itself (templates and static files are package data), in a layer of its own: a
# change to the portal rebuilds only this (seconds, nothing fetched: every dependency is in the
# layer above), not the whole environment. README.md is pyproject's long description only.
COPY pyproject.toml /tmp/src/
COPY portal /tmp/src/portal
RUN echo "DS Hub" > /tmp/src/README.md \
 && /opt/hub/bin/pip install --disable-pip-version-check --no-cache-dir --no-deps --no-build-isolation --no-index /tmp/src \
 && rm -rf /tmp/src
# PYTHONFAULTHANDLER: a crash (SIGSEGV, abort) prints every thread's Python stack to the log.
ENV PATH=/opt/hub/bin:/opt/proxy/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
COPY config/jupyterhub_config.py /srv/jupyterhub/jupyterhub_config.py
WORKDIR /srv/jupyterhub
EXPOSE 8000
# Through the public port: fails when the hub or its proxy is down (portal/platform/healthcheck.py).
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=3 \
  CMD ["python", "-m", "portal.platform.healthcheck"]
CMD ["jupyterhub", "-f", "/srv/jupyterhub/jupyterhub_config.py"]
