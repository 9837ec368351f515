"""nginx configurations for the benchmark: a fixed Kinvey upstream and a keep-alive proxy.

Both run in the foreground (``daemon off``) with every path (pid, logs, temp files) inside a
per-run directory, so nothing touches /etc/nginx or /var and several runs can coexist.
"""

from __future__ import annotations

import getpass
from pathlib import Path

from bench import fixtures as fx


def _literal(text: str) -> str:
    """``text`` as a single-quoted nginx string (no variables, no escapes needed)."""
    if any(ch in text for ch in "'\\$"):
        raise ValueError(f"cannot embed {text[:40]!r}... in an nginx string")
    return f"'{text}'"


def _preamble(workdir: Path, name: str) -> str:
    temp = workdir / f"{name}-temp"
    # The per-run directory is private to its owner: run the worker as that user (root here).
    return f"""\
user {getpass.getuser()};
worker_processes 1;
daemon off;
master_process on;
pid {workdir}/{name}.pid;
error_log {workdir}/{name}-error.log warn;
events {{ worker_connections 4096; multi_accept on; }}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_max_body_size 0;
    server_tokens off;
"""


def upstream_conf(workdir: Path, port: int) -> str:
    """The stand-in Kinvey v6 backend: fixed answers, a 10 MB file and an upload sink."""
    version = fx.UPSTREAM_API_VERSION
    return (
        _preamble(workdir, "upstream")
        + f"""\
    access_log off;
    sendfile on;
    tcp_nopush on;
    default_type application/json;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        add_header X-Kinvey-API-Version {version} always;
        add_header X-Kinvey-Request-Id $request_id always;
        location = {fx.COLLECTION_PATH} {{
            return 201 {_literal(fx.ENTITY_JSON)};
        }}
        location ~ ^{fx.COLLECTION_PATH}/[^/]+$ {{
            if ($request_method = DELETE) {{
                return 200 {_literal(fx.DELETE_COUNT_JSON)};
            }}
            return 200 {_literal(fx.ENTITY_JSON)};
        }}
        location = {fx.BLOB_PATH} {{
            # A v4+ Kinvey refuses file metadata without this header; the gateway adds it.
            if ($http_x_kinvey_content_type = "") {{
                return 400 {_literal(fx.MISSING_CONTENT_TYPE_JSON)};
            }}
            return 201 {_literal(fx.BLOB_METADATA_JSON)};
        }}
        location ~ ^{fx.BLOB_PATH}/[^/]+$ {{
            if ($request_method = DELETE) {{
                return 200 {_literal(fx.DELETE_COUNT_JSON)};
            }}
            return 200 {_literal(fx.BLOB_METADATA_JSON)};
        }}
        location = {fx.UPLOAD_PATH} {{
            # `return` would answer before the body is read; proxying to ourselves without
            # the body makes nginx read all of it (into memory) first, then answer.
            client_body_buffer_size 16m;
            proxy_pass http://127.0.0.1:{port}{fx.UPLOAD_PATH}-done;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_hide_header X-Kinvey-API-Version;
            proxy_hide_header X-Kinvey-Request-Id;
        }}
        location = {fx.UPLOAD_PATH}-done {{
            return 201 {_literal(fx.UPLOAD_DONE_JSON)};
        }}
        location = {fx.DOWNLOAD_PATH} {{
            types {{ }}
            default_type application/octet-stream;
            root {workdir}/www;
        }}
        location / {{
            return 404 {_literal(fx.NOT_FOUND_JSON)};
        }}
    }}
}}
"""
    )


def proxy_conf(workdir: Path, port: int, upstream_port: int) -> str:
    """nginx ``proxy_pass`` with pooled upstream keep-alive: the fast reference point."""
    return (
        _preamble(workdir, "proxy")
        + f"""\
    access_log {workdir}/proxy-access.log combined buffer=64k flush=1s;
    upstream kinvey {{
        server 127.0.0.1:{upstream_port};
        keepalive 128;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://kinvey;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # Stream both ways in memory, like the Python proxies (no temp files).
            proxy_request_buffering off;
            proxy_max_temp_file_size 0;
        }}
    }}
}}
"""
    )


def write_download_file(workdir: Path) -> Path:
    """The 10 MB file the upstream serves at DOWNLOAD_PATH."""
    target = workdir / "www" / fx.DOWNLOAD_PATH.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    block = bytes(range(256)) * 4096  # 1 MiB, not all zeros
    with target.open("wb") as out:
        for _ in range(fx.BIG_BODY_BYTES // len(block)):
            out.write(block)
    return target
