"""The customer import in zh-CN: the help names each column with its Chinese label, a file with Chinese headers
imports (page and API), the zh-CN export comes back through the import as it went out, and the error report
says the column and the problem in Chinese."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re

from tests.conftest import Api
from tests.web.conftest import Web


def _zh(web: Web) -> None:
    web.login("alice")
    web.get("/lang/zh_CN")


def _upload(web: Web, body: bytes, name: str = "customers.csv"):  # noqa: ANN202
    return web.post("/customers/import", {"file": (io.BytesIO(body), name)}, csrf_from="/customers",
                    content_type="multipart/form-data")


def _find(api: Api, name: str) -> dict:
    return api.get("/api/v1/customers", "alice", query_string={"q": name}).get_json()["items"][0]


def test_help_names_the_columns_in_chinese(web: Web) -> None:
    _zh(web)
    page = web.get("/customers").get_data(as_text=True)
    help_text = re.sub(r"<[^>]+>", "", re.search(r'id="import-columns">(.*?)</p>', page, re.S).group(1))
    for key, shown in (("name", "名称"), ("industry", "行业"), ("region", "区域"), ("level", "等级"),
                       ("source", "来源"), ("phone", "电话")):
        assert f"{key} ({shown})" in " ".join(help_text.split()), help_text
    web.get("/lang/en")
    english = web.get("/customers").get_data(as_text=True)
    assert "<code>name</code>, <code>industry</code>" in english and "(名称)" not in english


def test_chinese_headers_import_on_the_page_and_through_the_api(web: Web, api: Api) -> None:
    _zh(web)
    body = "名称,行业,区域,等级,来源,电话\n华南精工,制造业,华南,B级,转介绍,020-5555-0199\n".encode()
    assert _upload(web, body).status_code == 302
    made = _find(api, "华南精工")
    assert (made["industry"], made["region"], made["level"], made["source"], made["phone"]) == (
        "manufacturing", "south", "B", "referral", "020-5555-0199")
    sent = api.post("/api/v1/customers/import", "alice", data={
        "file": (io.BytesIO("名称,行业\n北方物流,物流\n".encode()), "api.csv")}, content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    assert _find(api, "北方物流")["industry"] == "logistics"


def test_the_chinese_export_imports_back(web: Web, crm: dict, api: Api) -> None:
    _zh(web)
    exported = web.get("/customers?format=csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows and "名称" in rows[0] and "name" not in rows[0]
    out = io.StringIO()  # the team renames the companies (the originals exist) and sends the file back
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "名称": row["名称"] + " 分公司", "电话": row["电话"].replace("0101", "0102")})
    assert _upload(web, out.getvalue().encode("utf-8-sig")).status_code == 302
    original, copy = _find(api, "Acme Robotics"), _find(api, "Acme Robotics 分公司")
    for key in ("industry", "region", "level"):
        assert copy[key] == original[key], key  # labels went out, the keys came back
    assert copy["phone"] == "+86 21 5555 0102"  # the export's apostrophe before + is not kept


def test_the_error_report_is_chinese(web: Web, crm: dict) -> None:
    _zh(web)
    bad = "名称,等级\nAcme Robotics,A\n新客户,Q\n新客户,B\n".encode()
    resp = _upload(web, bad)
    assert resp.status_code == 422
    page = htmllib.unescape(resp.get_data(as_text=True))
    report = re.findall(r'data-label="行">(\d+)</td><td data-label="字段">([^<]*)</td><td data-label="问题">([^<]*)<',
                        page)
    assert ("2", "名称", f"已存在（客户 {crm['mine']['id']}）") in report, report
    assert ("4", "名称", "与第 3 行重复") in report, report
    assert any(field == "等级" for _row, field, _msg in report), report
    assert "rows have problems" not in page and "行中有" in page


def test_a_csv_saved_by_chinese_excel_imports(web: Web, api: Api) -> None:
    """Excel's "CSV" on Chinese Windows is GBK, not UTF-8: it imports as it is; bytes that are neither are refused
    with a message saying how to save the file."""
    _zh(web)
    body = "名称,行业,区域\n东方电气,制造业,华东\n".encode("gbk")
    assert _upload(web, body).status_code == 302
    assert _find(api, "东方电气")["industry"] == "manufacturing"
    refused = _upload(web, b"name\n\x81\x7f\xff\xfe\n")
    assert refused.status_code == 422 and "UTF-8" in refused.get_data(as_text=True)


def test_a_file_the_reader_refuses_is_explained_in_chinese(web: Web) -> None:
    """What the file reader refuses (encoding, type, an empty file, a formula-free rule...) reads in Chinese,
    the reason inside "文件被拒绝：…" included; the API keeps the English words."""
    _zh(web)
    cases = [
        ("x.csv", b"\xff\xfe\x00name\n\x81\x30", "该 CSV 既不是 UTF-8 也不是 GB 18030（GBK）编码的文本",
         "请另存为“CSV UTF-8”或 XLSX 格式"),
        ("x.pdf", b"%PDF-1.4", "请上传 .csv 或 .xlsx 文件", "不是 .csv 或 .xlsx 文件"),
        ("x.csv", b"", "文件是空的", "没有表头行"),
        ("x.csv", "名称\n".encode(), "文件中没有数据行", "没有数据行"),
        ("x.csv", "名称\nA\x07B\n".encode(), "文件被拒绝：第 2 行，名称：含有控制字符或孤立代理字符（U+0007）",
         "第 2 行，名称：含有控制字符或孤立代理字符（U+0007）"),
        ("x.xlsx", b"PK\x03\x04 not a zip", "无法读取该 XLSX 文件", "不是有效的 XLSX 文件"),
    ]
    for name, body, headline, problem in cases:
        resp = _upload(web, body, name)
        assert resp.status_code == 422, name
        page = htmllib.unescape(resp.get_data(as_text=True))
        assert f"<p>{headline}</p>" in page and f'data-label="问题">{problem}<' in page, (name, page[-3000:])
        assert not re.search(r"(refused|neither|upload a|not a valid|header row|data rows)", page), name
        if "第 2 行" not in problem:  # a problem of the whole file: its field by name, no empty row label
            assert 'data-label="字段">文件<' in page and 'data-label="行">' not in page, name


def test_the_api_keeps_english_reasons(api: Api) -> None:
    sent = api.post("/api/v1/customers/import", "alice", data={
        "file": (io.BytesIO(b"name\nA\x07B\n"), "x.csv")}, content_type="multipart/form-data")
    problem = sent.get_json()
    assert sent.status_code == 422 and problem["detail"] == (
        "the file is refused: row 2, name: contains a control character or lone surrogate (U+0007)")
    assert problem["errors"][0]["field"] == "name" and problem["errors"][0]["row"] == 2
