#!/usr/bin/env bash
# Build the Dockerfile with podman and smoke-test the image against the built-in emulator.
#
# On-demand, not part of CI: it needs root and apt, and takes a few minutes. Where no container
# registry is reachable, `python:3.11-slim` cannot be pulled, so a local stand-in with the same
# name is built from Debian bookworm with debootstrap (Python 3.11, pip, venv) and imported.
# Where the real base can be pulled, set REAL_BASE=1 to skip that.
#
# Steps: install podman/buildah/runc/debootstrap if missing -> base image -> podman build ->
# emulator on the host -> container on the host network -> GET /healthz, /readyz, the image's
# HEALTHCHECK, one proxied handshake -> `podman stop` (SIGTERM) must exit 0 within the grace.
#
# Usage: sudo deploy/image/build-and-run.sh        (WORK=/var/tmp/... to move the scratch dir)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/var/tmp/kinvey-gateway-image}
IMAGE=${IMAGE:-localhost/kinvey-gateway:smoke}
NAME=kinvey-gateway-smoke
PROXY_PORT=${PROXY_PORT:-18080}
ADMIN_PORT=${ADMIN_PORT:-19090}
EMULATOR_PORT=${EMULATOR_PORT:-17007}
APP_KEY=kid_smoke
APP_SECRET=smoke-app-secret
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
ROOTFS=$WORK/rootfs
STORAGE=$WORK/storage
# vfs storage and runc: overlay mounts and crun's rlimit/cgroup handling fail in this sandbox.
PODMAN=(podman --storage-driver vfs --root "$STORAGE/root" --runroot "$STORAGE/run" --runtime runc)
EMULATOR_PID=""

log() { printf '\n== %s\n' "$*"; }

cleanup() {
    "${PODMAN[@]}" rm -f -t 2 "$NAME" >/dev/null 2>&1 || true
    if [[ -n "$EMULATOR_PID" ]]; then kill "$EMULATOR_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

wait_http() {  # URL EXPECTED_STATUS: poll (bounded) until the URL answers that status
    local url=$1 want=$2 got=""
    for _ in $(seq 1 100); do
        got=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
        [[ "$got" == "$want" ]] && return 0
        sleep 0.2
    done
    echo "FAIL: $url answered $got, expected $want" >&2
    return 1
}

wait_listening() {  # URL: poll (bounded) until anything answers HTTP there
    local url=$1
    for _ in $(seq 1 100); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$url" || true) != 000 ]] && return 0
        sleep 0.2
    done
    echo "FAIL: nothing answers at $url" >&2
    return 1
}

if [[ $(id -u) -ne 0 ]]; then echo "run as root (podman, apt, debootstrap)" >&2; exit 2; fi

log "tools"
missing=()
for tool in podman buildah runc debootstrap curl; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        podman buildah runc debootstrap curl ca-certificates
fi
mkdir -p "$WORK" "$STORAGE"

if [[ "${REAL_BASE:-0}" != 1 ]] && ! "${PODMAN[@]}" image exists docker.io/library/python:3.11-slim; then
    log "base: debootstrap bookworm as a stand-in for python:3.11-slim"
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    rm -rf "$ROOTFS"
    debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,python-is-python3 \
        bookworm "$ROOTFS" "$mirror"
    # pip inside the build must trust this machine's CA bundle (and may install system-wide).
    rm -f "$ROOTFS"/usr/lib/python3*/EXTERNALLY-MANAGED
    cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS"/etc/ssl/certs/ca-certificates.crt
    tar -C "$ROOTFS" -c . | "${PODMAN[@]}" import - docker.io/library/python:3.11-slim
    rm -rf "$ROOTFS"
fi

log "build $IMAGE"
pull=(--pull=never)
[[ "${REAL_BASE:-0}" == 1 ]] && pull=()
# docker format: the OCI format has no HEALTHCHECK and podman would drop it.
"${PODMAN[@]}" build "${pull[@]}" --format docker --isolation chroot --network host -t "$IMAGE" "$REPO"

log "emulator on 127.0.0.1:$EMULATOR_PORT"
"$PYTHON" -m gateway emulator --listen "127.0.0.1:$EMULATOR_PORT" \
    --app-key "$APP_KEY" --app-secret "$APP_SECRET" >"$WORK/emulator.log" 2>&1 &
EMULATOR_PID=$!
wait_listening "http://127.0.0.1:$EMULATOR_PORT/appdata/"

log "run $NAME (host network)"
"${PODMAN[@]}" rm -f "$NAME" >/dev/null 2>&1 || true
"${PODMAN[@]}" run -d --name "$NAME" --network host \
    --ulimit nofile=1024:1024 --ulimit nproc=1000:1000 --read-only --cap-drop ALL \
    -e KINVEY_GATEWAY_LISTEN="127.0.0.1:$PROXY_PORT" \
    -e KINVEY_GATEWAY_ADMIN_LISTEN="127.0.0.1:$ADMIN_PORT" \
    -e KINVEY_GATEWAY_UPSTREAM_URL="http://127.0.0.1:$EMULATOR_PORT" \
    -e KINVEY_GATEWAY_SHUTDOWN_DRAIN_SECONDS=1 \
    -e KINVEY_GATEWAY_SHUTDOWN_TIMEOUT_SECONDS=5 \
    "$IMAGE" >/dev/null

log "checks"
wait_http "http://127.0.0.1:$ADMIN_PORT/healthz" 200
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" 200
user=$("${PODMAN[@]}" exec "$NAME" id -u)
[[ "$user" == 10001 ]] || { echo "FAIL: runs as uid $user" >&2; exit 1; }
# Runs the image's HEALTHCHECK once. Without systemd podman cannot schedule the periodic
# checks and logs "unable to get systemd connection ... healthchecks": harmless here.
"${PODMAN[@]}" healthcheck run "$NAME" && echo "HEALTHCHECK: healthy"
body=$(curl -sf -u "$APP_KEY:$APP_SECRET" -H 'X-Kinvey-API-Version: 3' \
    "http://127.0.0.1:$PROXY_PORT/appdata/$APP_KEY")
[[ "$body" == *'"kinvey"'* ]] || { echo "FAIL: proxied handshake answered: $body" >&2; exit 1; }
echo "proxied handshake: $body"

log "stop (SIGTERM, grace 30 s)"
"${PODMAN[@]}" stop -t 30 "$NAME" >/dev/null
code=$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$NAME")
"${PODMAN[@]}" logs "$NAME" 2>&1 | tail -n 5
[[ "$code" == 0 ]] || { echo "FAIL: container exited $code after SIGTERM" >&2; exit 1; }

log "OK: image $IMAGE built, served /healthz, /readyz and a proxied request, stopped cleanly"
