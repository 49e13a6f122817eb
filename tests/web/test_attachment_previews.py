"""Images and PDFs can be looked at on the case page; anything else stays a download, whatever its name."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from intake.runtime import Runtime
from models import Attachment, Item
from tests.web.conftest import post_contact, signed_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _attachments(runtime: Runtime) -> tuple[int, dict[str, int]]:
    with runtime.database.session() as session:
        item_id = session.scalars(select(Item.id)).one()
        return item_id, {a.filename: a.id for a in session.scalars(select(Attachment))}


def test_an_image_and_a_pdf_are_previewed_inline_typed_from_their_bytes(client: TestClient, runtime: Runtime) -> None:
    files = [("attachments", ("photo.png", PNG, "image/png")), ("attachments", ("letter.pdf", PDF, "application/pdf"))]
    assert post_contact(client, files=files).status_code == 303
    item_id, ids = _attachments(runtime)
    signed_in(client, runtime, "tina", "triage")

    page = client.get(f"/staff/items/{item_id}").text
    image = client.get(f"/staff/items/{item_id}/attachments/{ids['photo.png']}/preview")
    pdf = client.get(f"/staff/items/{item_id}/attachments/{ids['letter.pdf']}/preview")

    assert f'src="/staff/items/{item_id}/attachments/{ids["photo.png"]}/preview"' in page
    assert "preview the PDF" in page
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"] == "inline"
    assert "default-src 'none'" in image.headers["content-security-policy"]
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"


def test_a_file_that_is_not_an_image_or_pdf_cannot_be_previewed(client: TestClient, runtime: Runtime) -> None:
    assert post_contact(client, files=[("attachments", ("letter.pdf", PDF, "application/pdf"))]).status_code == 303
    item_id, ids = _attachments(runtime)
    with runtime.database.session() as session:  # as if the bytes were an SVG with a script in it
        session.get(Attachment, ids["letter.pdf"]).content = SVG  # type: ignore[union-attr]
    signed_in(client, runtime, "tina", "triage")

    response = client.get(f"/staff/items/{item_id}/attachments/{ids['letter.pdf']}/preview")

    assert response.status_code == 404
    assert f"/attachments/{ids['letter.pdf']}/preview" not in client.get(f"/staff/items/{item_id}").text
    assert "<svg" not in response.text
