"""Finding 4: the board report's refusal never echoes the query as HTML."""

from __future__ import annotations

from intake.runtime import Runtime
from tests.security.conftest import staff_client

PAYLOAD = '<meta http-equiv=refresh content="0;url=https://evil.example/">'


def test_a_bad_period_is_refused_as_plain_text(runtime: Runtime) -> None:
    with staff_client(runtime, "mia", "manager") as client:
        response = client.get("/staff/reports/board", params={"period": PAYLOAD})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"
