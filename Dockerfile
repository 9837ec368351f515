# kinvey-gateway container image.
#
# Two stages: "build" installs the package into a virtualenv at /opt/venv; "runtime" copies only
# that venv onto a clean base, so no compiler, pip cache or source tree ships. The venv layout
# (rather than `pip install --prefix`) also works on Debian-packaged Pythons, see
# deploy/image/build-and-run.sh. No secret is baked in: app secrets and the URL-signing secret
# come from mounted files or KINVEY_GATEWAY_* environment variables at run time.

FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY gateway ./gateway
# Installs the runtime dependencies at the exact versions tested (constraints.txt), so an image
# rebuilt later ships what CI tested; `.` is this checkout, not a registry name.
RUN pip install --no-cache-dir -c constraints.txt . \
    && python -m compileall -q /opt/venv


FROM python:3.11-slim AS runtime

LABEL org.opencontainers.image.title="kinvey-gateway" \
      org.opencontainers.image.description="Reverse proxy that keeps every Kinvey REST API version (0-6) working after the backend upgrades" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed, high UID/GID (>= 10000) so Kubernetes' runAsNonRoot can verify it and it never
# collides with a host user.
RUN groupadd --gid 10001 kinvey \
    && useradd --uid 10001 --gid kinvey --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin kinvey

COPY --from=build /opt/venv /opt/venv
# Defaults so the image runs without a mounted config: listeners on 0.0.0.0, everything else
# at its built-in default. Kubernetes mounts the ConfigMap over /etc/kinvey-gateway/config.
COPY deploy/image/gateway.yaml /etc/kinvey-gateway/config/gateway.yaml
COPY deploy/image/healthcheck.py /usr/local/lib/kinvey-gateway/healthcheck.py

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

USER 10001:10001

# 8080: proxy listener; 9090: admin listener (/healthz, /readyz, /metrics).
EXPOSE 8080 9090

# The gateway drains on SIGTERM (fails /readyz, keeps serving shutdown.drain_seconds, then lets
# in-flight requests finish); give `docker stop` / `podman stop` a timeout above
# drain_seconds + timeout_seconds (25 s by default), e.g. `podman stop -t 30`.
STOPSIGNAL SIGTERM

# Kubernetes ignores HEALTHCHECK (it uses the probes in deploy/k8s); docker/podman use it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/opt/venv/bin/python", "/usr/local/lib/kinvey-gateway/healthcheck.py"]

ENTRYPOINT ["kinvey-gateway", "serve"]
CMD ["--config", "/etc/kinvey-gateway/config/gateway.yaml"]
