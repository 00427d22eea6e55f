"""Admin "fix variables" with a deeply nested JSON value: 422 naming `value`, never a RecursionError 500;
brackets inside strings do not count, and a value within the cap is saved."""

from __future__ import annotations

import pytest

from tests.web.admin.test_admin_pages import _failed_instance
from tests.web.conftest import Web


@pytest.mark.parametrize("value", ["[" * 990 + "]" * 990, "{\"a\":" * 995 + "1" + "}" * 995, "[" * 33 + "]" * 33,
                                   "[" * 5000])
def test_deeply_nested_value_is_422_naming_value(web: Web, api, value: str) -> None:  # noqa: ANN001
    inst = _failed_instance(api)
    web.login("admin")
    page = f"/admin/instances/{inst['id']}"
    resp = web.post(f"{page}/variables", {"name": "count", "value": value}, csrf_from=page)
    assert resp.status_code == 422 and 'id="err-value"' in resp.get_data(as_text=True)
    history = api.get(f"/api/v1/process-instances/{inst['id']}/history", "admin").get_json()["items"]
    assert not [h for h in history if h["type"] == "variables_changed"]


def test_brackets_inside_strings_do_not_count(web: Web, api) -> None:  # noqa: ANN001
    inst = _failed_instance(api)
    web.login("admin")
    page = f"/admin/instances/{inst['id']}"
    value = '{"note": "' + "[" * 100 + '\\" {{{", "n": [[1]]}'
    resp = web.post(f"{page}/variables", {"name": "extra", "value": value}, csrf_from=page)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-500:]
