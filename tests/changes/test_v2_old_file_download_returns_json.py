"""v2 OldFileDownloadReturnsJson: v0/v1 download-loc answers are 302 redirects again."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.versioning.pipeline import run_plan
from tests.changes.support import answering, assert_untouched, make_request, plan_for, run

# A GCS-style signed URL: percent-escapes, '+', '=', '&' and '~' must all survive untouched.
SIGNED = (
    "https://storage.googleapis.com/bucket/a%20b%2Bc.png?X-Goog-Algorithm=GOOG4-RSA-SHA256"
    "&X-Goog-Credential=svc%40proj.iam.gserviceaccount.com%2F20260101%2Fauto%2Fstorage"
    "&X-Goog-Signature=0a+b/c==&~tilde=%7e"
)


async def test_the_uri_becomes_the_location_byte_for_byte() -> None:
    upstream = answering(200, {"URI": SIGNED}, {"X-Kinvey-Request-Id": "r"})
    request = make_request("GET", "/blob/k/download-loc/a.png", 1, 2)
    response = await run_plan(plan_for(request), request, upstream)
    assert response.status == 302
    assert response.headers["Location"] == SIGNED
    assert response.body == b""
    assert "Content-Type" not in response.headers
    assert response.headers["X-Kinvey-Request-Id"] == "r"


async def test_v2_clients_keep_the_json() -> None:
    request = make_request("GET", "/blob/k/download-loc/a.png", 2, 2)
    assert plan_for(request).is_passthrough


@pytest.mark.parametrize(
    "body", [{"URI": ""}, {"uri": "x"}, [SIGNED], {"URI": 5}, {"URI": "http://x/\r\nSet-Cookie: a"}]
)
async def test_an_answer_without_a_usable_uri_is_a_502_not_a_broken_redirect(body: Any) -> None:
    request = make_request("GET", "/blob/k/download-loc/a.png", 1, 2)
    response = await run(request, answering(200, body))
    assert response.status == 502
    assert response.json["error"] == "KinveyInternalErrorRetry"
    assert "Location" not in response.headers


async def test_errors_pass_unchanged() -> None:
    body = {"error": "BlobNotFound", "description": "gone", "debug": ""}
    request = make_request("GET", "/blob/k/download-loc/a.png", 1, 2)
    response = await run(request, answering(404, body))
    assert (response.status, response.json) == (404, body)


# End to end (v0/v1 on a v3+ upstream, through the v3 emulation of download-loc): see
# test_v3_files_api_replaces_loc_endpoints.py, which checks the Location a real client gets.


@pytest.mark.parametrize(
    ("path", "status"),
    [("/blob/k/upload-loc/photo.png", 200), ("/blob/k/download-loc/photo.png", 203)],
)
async def test_only_a_download_loc_200_becomes_a_redirect(path: str, status: int) -> None:
    await assert_untouched(
        "GET", path, 1, 2, status=status, answer={"URI": "https://s/x?sig=a%2Fb"}
    )
