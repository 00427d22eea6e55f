"""Documents: sniffed uploads, size cap, versions, department visibility, random storage names."""

from __future__ import annotations

import io
import os
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select

from oa.models import Department
from oa.record_models import DocumentVersion
from tests.oa.conftest import problem_fields

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _xlsx() -> bytes:
    book = Workbook()
    book.active.append(["a", 1])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _post(api, user: str, content: bytes, name: str = "report.pdf", path: str = "/api/v1/documents",  # noqa: ANN001
          client_type: str = "application/pdf", **form):  # noqa: ANN003, ANN201
    data = {"file": (io.BytesIO(content), name, client_type), **form}
    return api.client.post(path, data=data, headers=api.headers(user), content_type="multipart/form-data")


def test_upload_download_and_versions(api, app, dbs) -> None:  # noqa: ANN001
    resp = _post(api, "alice", PDF, name="../../etc/passwd.pdf", title="Q4 plan", visibility="all")
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    assert doc["latest"]["content_type"] == "application/pdf" and doc["latest"]["filename"] == "passwd.pdf"
    with dbs() as s:
        stored = s.scalar(select(DocumentVersion.storage_name))
    upload_dir = Path(app.config["OAFLOW_SETTINGS"].upload_dir) / "documents"
    assert os.listdir(upload_dir) == [stored] and "passwd" not in stored and len(stored) == 32
    got = api.get(f"/api/v1/documents/{doc['id']}/download", "carol")
    assert got.status_code == 200 and got.data == PDF and got.mimetype == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff" and "attachment" in got.headers["Content-Disposition"]
    # a new version: only the owner; type judged from the bytes, not the client's header
    assert _post(api, "carol", _xlsx(), "x.xlsx", path=f"/api/v1/documents/{doc['id']}/versions"
                 ).status_code == 403
    resp = _post(api, "alice", _xlsx(), "numbers.pdf", path=f"/api/v1/documents/{doc['id']}/versions",
                 client_type="application/pdf")
    assert resp.status_code == 201 and resp.get_json()["version"] == 2
    assert resp.get_json()["content_type"].endswith("spreadsheetml.sheet")
    assert resp.get_json()["filename"] == "numbers.xlsx"
    assert api.get(f"/api/v1/documents/{doc['id']}/download", "carol", query_string={"version": 1}).data == PDF
    assert api.get(f"/api/v1/documents/{doc['id']}/download", "carol").data[:2] == b"PK"
    assert api.get(f"/api/v1/documents/{doc['id']}/download", "carol", query_string={"version": 9}
                   ).status_code == 404
    assert api.get(f"/api/v1/documents/{doc['id']}/download", "carol", query_string={"version": "x"}
                   ).status_code == 422
    assert [v["version"] for v in api.get(f"/api/v1/documents/{doc['id']}", "carol").get_json()["versions"]] == [1, 2]


def test_department_visibility(api, dbs) -> None:  # noqa: ANN001
    with dbs() as s:
        sales = s.scalar(select(Department.id).where(Department.name == "Sales"))
    shared = _post(api, "alice", PNG, "chart.png", visibility="departments", departments=str(sales)).get_json()
    private = _post(api, "alice", PDF).get_json()
    assert api.get(f"/api/v1/documents/{shared['id']}/download", "bob").status_code == 200  # Sales
    assert api.get(f"/api/v1/documents/{shared['id']}/download", "carol").status_code == 404  # Finance
    assert api.get(f"/api/v1/documents/{private['id']}/download", "bob").status_code == 404
    assert api.get(f"/api/v1/documents/{private['id']}", "bob").status_code == 404
    assert api.get(f"/api/v1/documents/{private['id']}/download", "admin").status_code == 200
    assert {d["id"] for d in api.get("/api/v1/documents", "bob").get_json()["items"]} == {shared["id"]}
    assert {d["id"] for d in api.get("/api/v1/documents", "alice").get_json()["items"]} == {shared["id"],
                                                                                           private["id"]}
    assert api.get("/api/v1/documents", "carol").get_json()["total"] == 0


def test_refused_uploads(api, app) -> None:  # noqa: ANN001
    for content, name in ((b"MZ\x90\x00" + b"\x00" * 60, "setup.pdf"), (b"\x7fELF\x02\x01", "tool.txt"),
                          (b"<!DOCTYPE html><html><script>alert(1)</script>", "page.txt"),
                          (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "pic.png"),
                          (b"#!/bin/sh\nrm -rf /\n", "notes.txt"), (b"", "empty.pdf")):
        resp = _post(api, "alice", content, name)
        assert resp.status_code == 422 and problem_fields(resp) == {"file"}, name
    import zipfile
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.exe", b"MZ")
    resp = _post(api, "alice", archive.getvalue(), "files.zip")
    assert resp.status_code == 422 and problem_fields(resp) == {"file"}
    cap = app.config["OAFLOW_MAX_FILE_BYTES"]
    resp = _post(api, "alice", b"a" * (cap + 1), "big.txt")
    assert resp.status_code == 413 and resp.mimetype == "application/problem+json"
    for form, field in (({"visibility": "world"}, "visibility"), ({"departments": "x,y"}, "departments"),
                        ({"visibility": "departments"}, "departments"), ({"folder_id": "99999"}, "folder_id"),
                        ({"colour": "red"}, "colour"), ({"departments": "99999", "visibility": "departments"},
                                                        "departments")):
        resp = _post(api, "alice", PDF, **form)
        assert resp.status_code == 422 and problem_fields(resp) == {field}, form
    resp = api.client.post("/api/v1/documents", json={"file": "x"}, headers=api.headers("alice"))
    assert resp.status_code == 415
    resp = api.client.post("/api/v1/documents", data={"title": "no file"}, headers=api.headers("alice"),
                           content_type="multipart/form-data")
    assert resp.status_code == 422 and problem_fields(resp) == {"file"}
    kept = [p for p in Path(app.config["OAFLOW_SETTINGS"].upload_dir).rglob("*") if p.is_file()]
    assert kept == []  # nothing refused was stored
    text = _post(api, "alice", "name,amount\nÅsa,3\n".encode(), "data.csv", client_type="text/html")
    assert text.status_code == 201 and text.get_json()["latest"]["content_type"] == "text/csv"


def test_folders(api) -> None:  # noqa: ANN001
    resp = api.post("/api/v1/document-folders", "alice", json={"name": "Contracts"})
    assert resp.status_code == 201
    folder = resp.get_json()["id"]
    assert api.post("/api/v1/document-folders", "bob", json={"name": "contracts"}).status_code == 409
    sub = api.post("/api/v1/document-folders", "bob", json={"name": "2026", "parent_id": folder})
    assert sub.status_code == 201
    resp = api.post("/api/v1/document-folders", "bob", json={"name": "x", "parent_id": 99999})
    assert resp.status_code == 422 and problem_fields(resp) == {"parent_id"}
    resp = api.post("/api/v1/document-folders", "bob", json={"name": ""})
    assert resp.status_code == 422 and problem_fields(resp) == {"name"}
    doc = _post(api, "alice", PDF, folder_id=str(folder), visibility="all").get_json()
    _post(api, "alice", PDF, visibility="all")
    listed = api.get("/api/v1/documents", "bob", query_string={"folder_id": folder}).get_json()["items"]
    assert [d["id"] for d in listed] == [doc["id"]]
    assert len(api.get("/api/v1/document-folders", "carol").get_json()["items"]) == 2
