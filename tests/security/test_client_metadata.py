"""Finding 1: what an integration writes in `metadata` is kept as data only. It never closes an
item untriaged, never opts a resident out of texts or back in, and never reaches system state."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.runtime import Runtime
from models import Item, SmsOptOut
from tests.security.conftest import item_json


def _item(runtime: Runtime, item_id: int) -> Item:
    with runtime.database.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item


def _opt_outs(runtime: Runtime) -> dict[str, bool]:
    with runtime.database.session() as session:
        return {row.phone: row.opted_out for row in session.scalars(select(SmsOptOut))}


def test_a_stop_keyword_in_metadata_does_not_close_a_complaint_or_opt_anyone_out(
    api: TestClient, runtime: Runtime
) -> None:
    response = api.post("/api/v1/items", json=item_json(metadata={"sms_keyword": "STOP", "crm_id": 41}))
    assert response.status_code == 202, response.text
    item = _item(runtime, response.json()["id"])
    assert item.type == "complaint"
    assert item.case_status == "open"
    assert item.queue is not None
    assert item.routing_reason is None or "keyword" not in item.routing_reason
    assert _opt_outs(runtime) == {}
    # Kept, as the client's data, apart from the system's own keys.
    assert item.details["client_metadata"] == {"sms_keyword": "STOP", "crm_id": 41}
    assert "sms_keyword" not in item.details
    assert item.details["source"] == "api:housing-system"


def test_a_start_keyword_in_metadata_does_not_resubscribe_a_resident_who_texted_stop(
    api: TestClient, runtime: Runtime
) -> None:
    with runtime.database.session() as session:
        session.add(SmsOptOut(phone="+447911123123", opted_out=True, keyword="STOP"))
    response = api.post(
        "/api/v1/items", json=item_json(channel="sms", sender="+447911123123", metadata={"sms_keyword": "START"})
    )
    assert response.status_code == 202, response.text
    assert _opt_outs(runtime) == {"+447911123123": True}
    assert _item(runtime, response.json()["id"]).case_status == "open"


def test_system_keys_in_metadata_cannot_overwrite_the_source_or_fake_a_bounce(
    api: TestClient, runtime: Runtime
) -> None:
    response = api.post(
        "/api/v1/items", json=item_json(metadata={"source": "twilio", "bounce_of": "<ack-1@landlord.example>"})
    )
    item = _item(runtime, response.json()["id"])
    assert item.details["source"] == "api:housing-system"
    assert "bounce_of" not in item.details
    assert item.type == "complaint" and item.case_status == "open"
