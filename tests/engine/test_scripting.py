"""Tests for the script sandbox (engine.scripting): hostile input is refused or bounded, legit scripts,
expressions, DMN tables and a small BPMN process keep working."""

from __future__ import annotations

import resource
import threading
import time
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine import scripting
from engine.scripting import (
    SandboxEnvironment,
    SandboxScriptEngine,
    ScriptError,
    ScriptLimits,
    check_expression,
    check_script,
    literal_assignments,
    shutdown_workers,
)

FAST = ScriptLimits(script_timeout=0.5, expression_timeout=0.3)


@pytest.fixture(scope="module", autouse=True)
def _workers():
    yield
    shutdown_workers()


@pytest.fixture(scope="module")
def env() -> SandboxEnvironment:
    return SandboxEnvironment(limits=FAST)


def assert_responsive(env: SandboxEnvironment) -> None:
    """The sandbox still evaluates and runs normal code right after a refusal."""
    assert env.evaluate("a + 1", {"a": 41}) == 42
    data = {"a": 1}
    started = time.monotonic()
    env.execute("b = a * 2", data)
    assert data == {"a": 1, "b": 2}
    assert time.monotonic() - started < 1.0


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- hostile input

HOSTILE = [
    ("().__class__.__base__.__subclasses__()", "starts with \"_\""),
    ("__import__('os')", "starts with \"_\""),
    ("open('/etc/passwd')", "open() is not allowed"),
    ("getattr((), '__class__')", 'attribute "__class__" is not allowed'),
    ("eval('1')", "Eval calls are not allowed"),
    ("[0] * 10**9", "sequence of 1,000,000,000 items"),
    ("list(range(10**9))", "range of 1,000,000,000 items"),
    ("[i for i in range(10**9)]", "range of 1,000,000,000 items"),
    ("10**10**10", "number of about"),
    ("'a' * 10**9", "sequence of 1,000,000,000 items"),
    ("1 << 10**10", "number of about"),
    ("f'{1:>999999999}'", "sequence of 999,999,999 items"),
    ("'x'.ljust(10**9)", "sequence of 1,000,000,000 items"),
    ("'{0.__class__}'.format(1)", "str.format() is not allowed"),
    ("(x for x in []).gi_frame", "gi_frame"),
    ("sum([[0] * 100] * 100, [])", "sum() only adds numbers"),
    ("[big.extend(big) for i in range(40)]", "limit"),
    ("[[0] * 1000000 for i in range(1000)]", "work limit"),
    ("pow(7, 10**1000, 10**10000)", "integer operation too large"),
]


@pytest.mark.parametrize(("expression", "message"), HOSTILE)
def test_hostile_expression_refused(env: SandboxEnvironment, expression: str, message: str) -> None:
    rss = max_rss_mb()
    with pytest.raises(ScriptError) as info:
        env.evaluate(expression, {"big": [1]})
    assert message in str(info.value)
    assert max_rss_mb() - rss < 100  # the test process did not balloon
    assert_responsive(env)


def test_expression_endless_recursion_bounded(env: SandboxEnvironment) -> None:
    started = time.thread_time()  # an expression's deadline is this thread's CPU time (a busy machine adds wait)
    with pytest.raises(ScriptError, match="limit"):
        env.evaluate("(lambda f: f(f, 60))(lambda f, n: n and f(f, n - 1) + f(f, n - 1))", {})
    assert time.thread_time() - started < 1.5
    assert_responsive(env)


def test_expression_time_limit(env: SandboxEnvironment) -> None:
    slow = SandboxEnvironment(limits=ScriptLimits(expression_timeout=0.05, max_sequence=10**9))
    with pytest.raises(ScriptError, match="exceeded the time limit of 0.05s"):
        slow.evaluate("[1 for a in range(100000) for b in range(100000)]", {})
    assert slow.evaluate("1 + 1", {}) == 2


@pytest.mark.parametrize(("script", "message"), [
    ("x = ().__class__.__base__.__subclasses__()", "starts with \"_\""),
    ("os = __import__('os')", "starts with \"_\""),
    ("import os", "Imports are not allowed"),
    ("from os import system", "Imports are not allowed"),
    ("x = [0] * 10**9", "sequence of 1,000,000,000 items"),
    ("x = list(range(10**9))", "range of 1,000,000,000 items"),
    ("x = [i for i in range(10**9)]", "range of 1,000,000,000 items"),
    ("x = 10**10**10", "number of about"),
    # a memory refusal; on a loaded machine the 1 s time limit may refuse it first, which is as good
    ("x = []\nfor i in range(100):\n    x.append([0] * 1000000)\n", ("memory limit of 128 MB", "time limit")),
    ("class A:\n    pass", "Class definitions are not allowed"),
])
def test_hostile_script_refused(script: str, message: str | tuple[str, ...]) -> None:
    env = SandboxEnvironment(limits=ScriptLimits(script_timeout=1.0, memory_bytes=128 * 2**20))
    rss = max_rss_mb()
    data = {"a": 1}
    with pytest.raises(ScriptError) as info:
        env.execute(script, data)
    kinds = (message,) if isinstance(message, str) else message
    assert any(kind in str(info.value) for kind in kinds), (kinds, str(info.value))
    assert data == {"a": 1}
    assert max_rss_mb() - rss < 100
    assert_responsive(env)


def test_script_cannot_write_files(env: SandboxEnvironment, tmp_path: Path) -> None:
    target = tmp_path / "pwned.txt"
    for script in (f"open({str(target)!r}, 'w').write('x')", f"f = open\nf({str(target)!r}, 'w')"):
        with pytest.raises(ScriptError, match="open"):
            env.execute(script, {})
    with pytest.raises(ScriptError, match="open"):
        env.evaluate(f"open({str(target)!r}, 'w')", {})
    assert not target.exists()
    with pytest.raises(ScriptError, match="open"):
        env.execute("x = open('/etc/passwd').read()", {})
    assert_responsive(env)


def test_endless_loop_script_times_out_and_sandbox_stays_responsive(env: SandboxEnvironment) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptError, match=r"exceeded the time limit of 0.5s"):
        env.execute("while True:\n    pass", {})
    assert time.monotonic() - started < 1.5
    assert_responsive(env)


def test_endless_loop_cannot_swallow_the_time_limit(env: SandboxEnvironment) -> None:
    script = "while True:\n    try:\n        while True:\n            pass\n    except:\n        pass\n"
    started = time.monotonic()
    with pytest.raises(ScriptError, match="time limit") as info:
        env.execute(script, {})
    assert time.monotonic() - started < 1.5
    assert info.value.line_number is not None
    assert_responsive(env)


def test_stuck_worker_is_killed_and_replaced() -> None:
    """The parent's own deadline: a worker that does not answer in time is killed, and the next
    script runs on a fresh worker. (The worker is told a long limit here so its in-process guard
    does not fire first, as it would for anything a script can do in pure Python.)"""
    request = {"script": "while True:\n    pass", "data": {}, "values": {}, "functions": [],
               "limits": {"script_timeout": 60, "memory_bytes": 256 * 2**20, "max_sequence": 10**6}}
    started = time.monotonic()
    with pytest.raises(ScriptError, match="exceeded the time limit of 0.2s"):
        scripting._POOL.run(request, {}, ScriptLimits(script_timeout=0.2))
    assert time.monotonic() - started < 2
    assert_responsive(SandboxEnvironment(limits=FAST))


def test_refusals_at_deploy_time() -> None:
    assert check_expression("amount > 1000 and approved") is None
    assert check_script("total = sum(i['amount'] for i in items)\nitems.append({'amount': 1})") is None
    assert "starts with" in check_expression("().__class__")
    assert "Imports are not allowed" in check_script("import os")
    assert "open() is not allowed" in check_script("open('/etc/passwd')")
    message = check_script("x = 1\ny = (\n")
    assert message is not None and "Line 2" in message
    assert check_expression("x = 1") is not None  # a statement is not an expression


# --------------------------------------------------------------------------- legit code


def test_legit_expressions(env: SandboxEnvironment) -> None:
    data = {"total": 1500, "approved": True, "items": [{"amount": 2}, {"amount": 3}], "name": "Ann"}
    assert env.evaluate("total > 1000 and approved", data) is True
    assert env.evaluate('"approved" if approved else "rejected"', data) == "approved"
    assert env.evaluate('sum(i["amount"] for i in items)', data) == 5
    assert env.evaluate("sorted([3, 1, 2])[0] + len(items) + max(1, 2) + abs(-1)", data) == 6
    assert env.evaluate("f'{name.upper()}: {total:>8.2f}'", data) == "ANN:  1500.00"
    assert env.evaluate("'%s has %d' % (name, total)", data) == "Ann has 1500"
    assert env.evaluate("[x * 2 for x in range(3)] + list({1, 2} & {2})", data) == [0, 2, 4, 2]
    assert env.evaluate("{k: v for k, v in zip('ab', (1, 2))}", data) == {"a": 1, "b": 2}
    assert env.evaluate("(datetime(2024, 1, 31) + timedelta(days=1)).date() == date(2024, 2, 1)", data)
    assert env.evaluate('", ".join(str(i) for i in range(3))', data) == "0, 1, 2"
    assert env.evaluate("2 ** 64 * 3", data) == 3 * 2**64
    assert env.evaluate("datetime.strptime('2024-03-01', '%Y-%m-%d').strftime('%d.%m.%Y')", data) == "01.03.2024"
    assert env.evaluate("getattr(name, 'lower')()", data) == "ann"
    assert env.evaluate('"PT48H"', data) == "PT48H"


def test_expression_can_call_runtime_functions() -> None:
    env = SandboxEnvironment(globals={"double": lambda x: 2 * x}, limits=FAST)
    managers = {"ann": "bob"}
    assert env.evaluate("manager_of(starter) + str(double(2))", {"starter": "ann"},
                        {"manager_of": managers.get}) == "bob4"


def test_expression_errors_keep_their_type(env: SandboxEnvironment) -> None:
    with pytest.raises(ScriptError) as info:
        env.evaluate("missing + 1", {})
    assert isinstance(info.value, NameError) and "missing" in str(info.value)
    with pytest.raises(ZeroDivisionError):
        env.evaluate("1 / 0", {})


def test_script_semantics_like_task_data_environment(env: SandboxEnvironment) -> None:
    data = {"items": [{"amount": 3}, {"amount": 4}], "data": {}, "lst": [1], "gone": 1, "keep": "x"}
    script = "\n".join([
        'total = sum(i["amount"] for i in items)',
        'outcome = "approved" if total > 5 else "rejected"',
        'data["x"] = 1',
        'data["x"] += 2',
        "lst.append(2)",
        "count = 0",
        "for i in range(10):",
        "    count += i",
        "del gone",
        "def helper(v):",
        "    return v * 10",
        "scaled = helper(total)",
        "print('ignored')",
    ])
    assert env.execute(script, data) is True
    assert data == {"items": [{"amount": 3}, {"amount": 4}], "data": {"x": 3}, "lst": [1, 2], "keep": "x",
                    "total": 7, "outcome": "approved", "count": 45, "scaled": 70,
                    "i": 9}  # loop variables stay, as with SpiffWorkflow's TaskDataEnvironment


def test_script_calls_runtime_functions_and_sees_values() -> None:
    calls: list[str] = []

    def manager_of(username: str) -> str:
        calls.append(username)
        return {"ann": "bob"}[username]

    env = SandboxEnvironment(globals={"manager_of": manager_of, "company": "ACME"}, limits=FAST)
    data = {"starter": "ann"}
    env.execute("boss = manager_of(starter)\nwho = company + ':' + boss", data, {"ceiling": 10})
    assert data == {"starter": "ann", "boss": "bob", "who": "ACME:bob"}
    assert calls == ["ann"]
    with pytest.raises(ScriptError) as info:
        env.execute("boss = manager_of('nobody')", {})
    assert isinstance(info.value, RuntimeError) and "KeyError" in str(info.value)


def test_script_errors_keep_type_and_line(env: SandboxEnvironment) -> None:
    with pytest.raises(ZeroDivisionError) as info:
        env.execute("x = 1\ny = x / 0", {})
    assert isinstance(info.value, ScriptError) and info.value.line_number == 2
    with pytest.raises(NameError, match="undefined_name"):
        env.execute("x = undefined_name", {})
    with pytest.raises(KeyError):
        env.execute("x = {}['k']", {})


def test_non_json_task_data_is_a_clear_error(env: SandboxEnvironment) -> None:
    with pytest.raises(ScriptError, match="task data variable 'when' is a datetime"):
        env.execute("x = 1", {"when": __import__("datetime").datetime(2024, 1, 1)})
    with pytest.raises(ScriptError, match="variable 'when' is a datetime.*isoformat"):
        env.execute("when = datetime.now()", {})
    data: dict = {}
    env.execute("when = datetime(2024, 1, 2).isoformat()", data)
    assert data == {"when": "2024-01-02T00:00:00"}


@pytest.mark.parametrize("script, expected", [
    ('outcome = "approved"', {"outcome": "approved"}),
    ("a = 1\nb = -2.5\nc = None\nd = True", {"a": 1, "b": -2.5, "c": None, "d": True}),
])
def test_literal_scripts_set_their_variables(env: SandboxEnvironment, script: str, expected: dict) -> None:
    """Scripts that only assign literals (the shipped flows' `outcome = ...`) skip the worker process."""
    assert literal_assignments(script, set()) == expected
    data = {"keep": 1, "outcome": "old"}
    assert env.execute(script, data) is True
    assert data == {"keep": 1, "outcome": "old", **expected}


@pytest.mark.parametrize("script", ["a = b", "a = 1 + 1", "a = f()", "_a = 1", "a: int = 1", "a = b = 1",
                                    "a, b = 1, 2", "a = [1]", "a = -True", "a = 1\nwhile True: pass",
                                    "a = 'x' * 10", "manager_of = 1", "x = ("])
def test_anything_else_goes_to_the_sandbox(script: str) -> None:
    """Everything that evaluates code (or names a helper function) still runs in the sandbox worker."""
    assert literal_assignments(script, {"manager_of"}) is None


def test_overwriting_a_function_is_refused() -> None:
    env = SandboxEnvironment(globals={"manager_of": str}, limits=FAST)
    with pytest.raises(ScriptError, match="manager_of"):
        env.execute("x = 1", {"manager_of": "bob"})


def test_concurrent_scripts_from_threads(env: SandboxEnvironment) -> None:
    results: dict[int, int] = {}
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            data = {"n": n}
            env.execute("r = n * n", data)
            results[n] = data["r"]
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == {n: n * n for n in range(12)}


# --------------------------------------------------------------------------- SpiffWorkflow

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="approval" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="compute" name="Compute total">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:businessRuleTask id="decide" name="Who approves">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>approver_table</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:exclusiveGateway id="gw" default="small">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>big</bpmn:outgoing><bpmn:outgoing>small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute"/>
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="decide"/>
    <bpmn:sequenceFlow id="f3" sourceRef="decide" targetRef="gw"/>
    <bpmn:sequenceFlow id="big" sourceRef="gw" targetRef="end_big">
      <bpmn:conditionExpression>total &gt; 1000</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small" sourceRef="gw" targetRef="end_small"/>
    <bpmn:endEvent id="end_big"><bpmn:incoming>big</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_small"><bpmn:incoming>small</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn_defs" name="Approvers"
             namespace="http://oaflow/dmn">
  <decision id="approver_table" name="Approver">
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="in_total" label="Total">
        <inputExpression id="in_total_expr" typeRef="number"><text>total</text></inputExpression>
      </input>
      <output id="out_approver" name="approver" typeRef="string"/>
      <rule id="r1"><inputEntry id="r1i"><text>&lt;= 1000</text></inputEntry>
        <outputEntry id="r1o"><text>"manager"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="r2i"><text>&lt;= 10000</text></inputEntry>
        <outputEntry id="r2o"><text>"director"</text></outputEntry></rule>
      <rule id="r3"><inputEntry id="r3i"><text>&gt; 10000</text></inputEntry>
        <outputEntry id="r3o"><text>"ceo"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""

GOOD_SCRIPT = 'total = sum(i["amount"] for i in items)\nitems.append({"amount": 0})'


def run_process(script: str, data: dict, env: SandboxEnvironment, condition: str = "total &gt; 1000",
                engine_class: type[PythonScriptEngine] = PythonScriptEngine) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN.replace("SCRIPT", script).replace("total &gt; 1000", condition).encode())
    parser.add_dmn_str(DMN.encode())
    workflow = BpmnWorkflow(parser.get_spec("approval"), script_engine=engine_class(environment=env))
    workflow.get_next_task(spec_name="Start").set_data(**data)
    workflow.do_engine_steps()
    return workflow


def reached(workflow: BpmnWorkflow) -> set[str]:
    from SpiffWorkflow.util.task import TaskState
    return {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}


@pytest.mark.parametrize(("amounts", "approver", "end"), [
    ([400, 500], "manager", "end_small"),
    ([4000, 500], "director", "end_big"),
    ([40000], "ceo", "end_big"),
])
def test_process_with_script_dmn_and_gateway(env: SandboxEnvironment, amounts: list[int], approver: str,
                                             end: str) -> None:
    workflow = run_process(GOOD_SCRIPT, {"items": [{"amount": a} for a in amounts]}, env)
    assert workflow.completed
    assert end in reached(workflow)
    assert workflow.last_task.data["total"] == sum(amounts)
    assert workflow.last_task.data["approver"] == approver
    assert workflow.last_task.data["items"][-1] == {"amount": 0}


@pytest.mark.parametrize(("script", "message"), [
    ("x = ().__class__.__base__.__subclasses__()", 'starts with "_"'),
    ("while True:\n    pass", "exceeded the time limit of 0.5s"),
    ("x = [0] * 10**9", "sequence of 1,000,000,000 items"),
])
def test_hostile_script_in_process_raises_workflow_task_exception(env: SandboxEnvironment, script: str,
                                                                  message: str) -> None:
    with pytest.raises(WorkflowTaskException) as info:
        run_process(script, {"items": []}, env)
    assert message in str(info.value)
    assert info.value.task.task_spec.bpmn_id == "compute"
    assert_responsive(env)


def test_script_error_line_reaches_spiffworkflow(env: SandboxEnvironment) -> None:
    with pytest.raises(WorkflowTaskException) as info:
        run_process("total = 1\nx = totl + 1", {"items": []}, env)
    err = info.value
    assert err.line_number == 2 and err.error_line == "x = totl + 1"
    assert "NameError" in str(err) and "Did you mean" in str(err)


def test_hostile_condition_in_process(env: SandboxEnvironment) -> None:
    hostile = "len([0] * 10**9) &gt; 0"
    with pytest.raises(WorkflowTaskException) as info:
        run_process(GOOD_SCRIPT, {"items": []}, env, condition=hostile)
    # SpiffWorkflow's own engine hides the cause in __context__ ...
    assert isinstance(info.value.__context__, ScriptError)
    assert "sequence of 1,000,000,000 items" in str(info.value.__context__)
    # ... SandboxScriptEngine puts it in the message.
    with pytest.raises(WorkflowTaskException, match="sequence of 1,000,000,000 items"):
        run_process(GOOD_SCRIPT, {"items": []}, env, condition=hostile, engine_class=SandboxScriptEngine)
    workflow = run_process(GOOD_SCRIPT, {"items": [{"amount": 5000}]}, env, engine_class=SandboxScriptEngine)
    assert "end_big" in reached(workflow)
