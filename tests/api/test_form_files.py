"""File fields (`x-oaflow-file`): an upload named by a form field is attached to the instance at start; an
upload that is not the starter's, or is used already, is a 422 naming the field."""

from __future__ import annotations

import io

PDF = b"%PDF-1.4\n% contract draft\n"


def _upload(api, user: str) -> int:  # noqa: ANN001
    resp = api.post("/api/v1/attachments", user, data={"file": (io.BytesIO(PDF), "draft.pdf")},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _opportunity(api, user: str, name: str) -> int:  # noqa: ANN001
    customer = api.post("/api/v1/customers", user, json={"name": f"{name} Ltd"}).get_json()
    resp = api.post("/api/v1/opportunities", user, json={"customer_id": customer["id"], "name": name,
                                                          "amount": "5000"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _start(api, user: str, opp: int, document: int):  # noqa: ANN001, ANN202
    return api.post("/api/v1/process-definitions/contract_approval/start", user, json={"variables": {
        "opportunity_id": opp, "title": "Deal", "amount": 5000, "document": document}})


def test_contract_document_is_attached_once(api) -> None:  # noqa: ANN001
    doc = _upload(api, "alice")
    resp = _start(api, "alice", _opportunity(api, "alice", "First"), doc)
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()["id"]
    files = api.get(f"/api/v1/process-instances/{inst}/attachments", "alice").get_json()
    items = files["items"] if isinstance(files, dict) else files
    assert [f["id"] for f in items] == [doc]
    again = _start(api, "alice", _opportunity(api, "alice", "Second"), doc)  # used by the first request
    assert again.status_code == 422 and again.get_json()["errors"][0]["field"] == "document"


def test_someone_elses_upload_is_refused(api) -> None:  # noqa: ANN001
    bobs = _upload(api, "bob")
    resp = _start(api, "alice", _opportunity(api, "alice", "Third"), bobs)
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "document"
    assert api.get(f"/api/v1/attachments/{bobs}", "bob").status_code == 200  # still bob's, still pending


def test_a_file_name_cannot_disguise_itself(api) -> None:  # noqa: ANN001
    """A right-to-left override makes "\u202egpj.exe" read "exe.jpg": format and control characters are dropped
    from a stored name (attacker finding), folders too; the download names the cleaned file."""
    cases = (("\u202egpj.exe", "gpj.exe"), ("../../a\u200fb\x07.pdf", "ab.pdf"), ("\u2066\u2069", "attachment"))
    for sent, kept in cases:
        resp = api.post("/api/v1/attachments", "alice", data={"file": (io.BytesIO(PDF), sent)},
                        content_type="multipart/form-data")
        assert resp.status_code == 201 and resp.get_json()["filename"] == kept, (sent, resp.get_json())
        download = api.get(f"/api/v1/attachments/{resp.get_json()['id']}", "alice")
        assert "%E2%80%AE" not in download.headers.get("Content-Disposition", ""), download.headers
