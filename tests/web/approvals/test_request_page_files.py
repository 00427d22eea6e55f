"""The request page names files and the business record as people know them: file fields show the file's name
linked to its download (never the attachment id), the header names the record the request is about (linked,
for someone who may read it), never the raw business key."""

from __future__ import annotations

import io

from tests.web.approvals.test_task_page import PDF, _expense
from tests.web.conftest import Web


def test_file_fields_show_names_with_download_links(web: Web) -> None:
    web.login("alice")
    resp = _expense(web, amounts=("80",), filename="taxi <b>.pdf")
    inst = int(resp.headers["Location"].rsplit("/", 1)[1])
    html = web.get(f"/instances/{inst}").get_data(as_text=True)
    data = html[html.index('id="request-data"'):html.index('id="attachments"')]
    assert 'class="file-link" href="/instances/' in data and "taxi &lt;b&gt;.pdf</a>" in data
    assert "<b>" not in data


def test_header_names_the_business_record(web: Web, crm) -> None:  # noqa: ANN001
    web.login("alice")
    resp = web.post("/start/contract_approval", {
        "v:opportunity_id": str(crm["opp"]["id"]), "v:title": "Arm upgrade contract", "v:amount": "80000",
        "file:document": (io.BytesIO(PDF), "draft.pdf")}, csrf_from="/start/contract_approval",
        content_type="multipart/form-data")
    inst = int(resp.headers["Location"].rsplit("/", 1)[1])
    html = web.get(f"/instances/{inst}").get_data(as_text=True)
    assert f'id="business-record" href="/customers/{crm["mine"]["id"]}">Arm upgrade</a>' in html
    assert "opportunity:" not in html
    assert "draft.pdf</a>" in html[html.index('id="request-data"'):html.index('id="attachments"')]
