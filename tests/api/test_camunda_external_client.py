"""The PyPI Camunda external task client (camunda-external-task-client-python3) works against /engine-rest:
fetch and lock, complete, BPMN error and failure, authenticated with Basic (the erp account and its API key)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from camunda.client.external_task_client import ExternalTaskClient

from tests.api.camunda_server import Server, serve
from tests.api.test_camunda_external_tasks import _deploy_and_start, _tasks


@pytest.fixture(scope="module")
def server(db_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module."""
    with serve(db_template, tmp_path_factory.mktemp("client")) as srv:
        yield srv


def _client(server: Server, worker: str = "py-worker") -> ExternalTaskClient:
    return ExternalTaskClient(worker, server.base, {"auth_basic": {"username": "erp", "password": server.erp_key},
                                                    "maxTasks": 5, "lockDuration": 10_000,
                                                    "asyncResponseTimeout": 5_000, "retries": 3,
                                                    "retryTimeout": 0})


def test_client_fetches_completes_and_throws_bpmn_errors(server: Server) -> None:
    """The client's calls, as its worker loop makes them, move instances on."""
    first, second = _deploy_and_start(server, "ext_client", "py-charge", count=2)
    client = _client(server)
    tasks = client.fetch_and_lock(["py-charge"], variables=["amount", "card"])
    assert sorted(t["processInstanceId"] for t in tasks) == sorted([first, second])
    by_instance = {t["processInstanceId"]: t for t in tasks}
    assert by_instance[first]["variables"]["card"]["value"] == "4111"
    assert client.complete(by_instance[first]["id"], {"receipt": "R-1", "charged": True}) is True
    assert _tasks(server, "alice", first) == ["review"]
    variables = requests.get(f"{server.base}/process-instance/{first}/variables", auth=("alice", "demo"),
                             timeout=30).json()
    assert variables["receipt"]["value"] == "R-1" and variables["charged"]["type"] == "Boolean"
    assert client.bpmn_failure(by_instance[second]["id"], "card_declined", "declined") is True
    assert _tasks(server, "bob", second) == ["declined"]


def test_client_failure_counts_down_retries(server: Server) -> None:
    """failure(retries=0) leaves the task unfetchable (an incident) for every worker."""
    [pid] = _deploy_and_start(server, "ext_client_fail", "py-fail")
    client = _client(server)
    [task] = client.fetch_and_lock(["py-fail"])
    assert client.failure(task["id"], "boom", "details", 0, 0) is True
    assert _client(server, "other").fetch_and_lock(["py-fail"]) == []
    assert _tasks(server, "alice", pid) == []


def _readme_snippets() -> list[str]:
    import re
    from pathlib import Path
    section = (Path(__file__).resolve().parents[2] / "README.md").read_text().split("## For integrators", 1)[1]
    section = section.split("\n## ", 1)[0]
    return [code for code in re.findall(r"```python\n(.*?)```", section, re.S) if "engine-rest" in code]


def test_readme_camunda_snippets_run_as_printed(server: Server, capsys: pytest.CaptureFixture) -> None:
    """The README's requests snippet and external task worker, with only the address and key filled in."""
    rest, worker = _readme_snippets()
    fill = {"http://127.0.0.1:5000/engine-rest": server.base, "oak_…": server.erp_key}
    for printed, real in fill.items():
        rest, worker = rest.replace(printed, real), worker.replace(printed, real)
    exec(rest, {})  # noqa: S102 - the README's own example
    printed = capsys.readouterr().out
    assert "leave-42" in printed and "ACTIVE" in printed
    [pid] = _deploy_and_start(server, "readme_worker", "charge")
    exec(worker, {})  # noqa: S102
    assert _tasks(server, "alice", pid) == ["review"]
