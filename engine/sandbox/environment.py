"""``SandboxEnvironment`` (SpiffWorkflow's script environment running expressions in-process and
scripts in workers, both under the sandbox's guards) and ``SandboxScriptEngine``."""

from __future__ import annotations

import ast
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .budget import Budget
from .errors import ScriptError, _as_script_error, _raise_at_line, _reply_error, _stopped
from .limits import SandboxStop, ScriptLimits
from .policy import check_source, compile_sandboxed
from .pool import _POOL
from .protocol import json_problem
from .scope import make_globals


def check_expression(source: str) -> str | None:
    """Deploy-time check: None if the expression compiles under the sandbox rules, else a message
    (syntax error with line, use of underscore names/attributes, import, etc.)."""
    return check_source(source, "eval")


def check_script(source: str) -> str | None:
    """Same as check_expression for a script task body (statements)."""
    return check_source(source, "exec")


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that runs expressions and scripts in the sandbox.

    ``globals``: names (typically helper functions) visible to every expression and script.
    ``call_service`` is left to subclasses (the runtime routes service tasks to its registry).
    """

    def __init__(self, globals: dict[str, Any] | None = None, limits: ScriptLimits | None = None) -> None:
        super().__init__(globals)
        self.limits = limits or ScriptLimits()

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: dict[str, Any] | None = None) -> Any:
        """Evaluate an expression in-process with the task data as variables; return its value."""
        try:
            code = compile_sandboxed(expression, "eval")
        except SandboxStop as err:
            refused = ScriptError(f"Expression refused: {err}")
            refused.kind = "refused"
            raise refused from None
        limits = self.limits
        budget = Budget("Expression", limits.expression_timeout, limits.max_sequence, limits.max_sequence,
                        memory_growth=limits.memory_bytes)
        scope = _timed_functions(self.globals, budget)
        if external_context:
            scope.update(_timed_functions(external_context, budget))
        scope.update(context)
        scope.update(make_globals(budget))  # last, so task data can never replace a guard
        try:
            result = eval(code, scope)  # noqa: S307 - compiled with compile_restricted and guards
            if not isinstance(result, _PLAIN_RESULTS):
                budget.weighed(result)  # the engine stores it in task data, serialised to JSON
                budget.check_text(result)  # callers log and store results as text
            return result
        except SandboxStop as err:
            raise _stopped(err) from None
        except MemoryError:
            err = ScriptError("Expression exceeded the available memory")
            err.kind = "memory"
            raise err from None
        except Exception as err:
            raise _as_script_error(err).with_traceback(err.__traceback__) from None

    def execute(self, script: str, context: dict[str, Any],
                external_context: dict[str, Any] | None = None) -> bool:
        """Run a script task body in a worker process; write changed variables back into ``context``
        (the task data) and remove the ones the script deleted."""
        external_context = external_context or {}
        overwrites = (set(self.globals) | set(external_context)) & set(context)
        if overwrites:
            raise ScriptError(
                "You have task data that overwrites a predefined function(s). Please change the "
                f"following variable or field name(s) to something else: {sorted(overwrites)}")
        try:
            compile_sandboxed(script, "exec")
        except SandboxStop as err:
            refused = ScriptError(f"Script refused: {err}")
            refused.kind = "refused"
            raise refused from None
        for key, value in context.items():
            problem = json_problem(value, f"task data variable {key!r}")
            if problem:
                raise ScriptError(f"Cannot run the script: {problem}.")
        constants = literal_assignments(script, set(self.globals) | set(external_context))
        if constants is not None:  # nothing to evaluate, so nothing to sandbox: no worker round trip
            context.update(constants)
            return True
        values: dict[str, Any] = {}
        functions: dict[str, Any] = {}
        for source in (self.globals, external_context):
            for name, value in source.items():
                if not isinstance(name, str) or name.startswith("_"):
                    continue
                if callable(value):
                    functions[name] = value
                    values.pop(name, None)
                elif json_problem(value, name) is None:
                    values[name] = value
                    functions.pop(name, None)
        request = {
            "script": script,
            "data": context,
            "values": values,
            "functions": sorted(functions),
            "limits": {
                "script_timeout": self.limits.script_timeout,
                "memory_bytes": self.limits.memory_bytes,
                "max_sequence": self.limits.max_sequence,
            },
        }
        reply = _POOL.run(request, functions, self.limits)
        if not reply.get("ok"):
            error = reply.get("error")
            err = _reply_error(error if isinstance(error, dict) else {}, self.limits)
            _raise_at_line(err, err.line_number)
        changed, deleted = reply.get("changed"), reply.get("deleted")
        if not isinstance(changed, dict) or not isinstance(deleted, list):
            raise ScriptError("The script worker sent an invalid reply")
        for key in deleted:
            context.pop(key, None)
        context.update(changed)
        return True


_LITERALS = (str, int, float, bool, type(None))
_PLAIN_RESULTS = (str, int, float, bool, type(None))


def _timed_functions(names: dict[str, Any], budget: Budget) -> dict[str, Any]:
    """``names`` with each callable wrapped as a host call (``Meter.host_call``): its time has its own
    allowance, checked as soon as the helper returns (a helper itself cannot be interrupted)."""
    scope = dict(names)
    for name, value in names.items():
        if callable(value) and not isinstance(value, type):
            scope[name] = _timed(value, budget)
    return scope


def _timed(func: Any, budget: Budget) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        return budget.host_call(func, *args, **kwargs)
    return timed


def literal_assignments(script: str, reserved: set[str]) -> dict[str, Any] | None:
    """The variables a script sets if it is nothing but `name = <literal>` lines (like `outcome = "approved"`),
    else None. Such a script evaluates no code at all, so it needs no sandbox process."""
    try:
        tree = ast.parse(script, mode="exec")
    except (SyntaxError, ValueError):
        return None
    found: dict[str, Any] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            return None
        name, value = node.targets[0].id, node.value
        negative = isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub)
        if negative:
            value = value.operand
        literal = isinstance(value, ast.Constant) and isinstance(value.value, _LITERALS)
        if negative:
            literal = literal and isinstance(value.value, int | float) and not isinstance(value.value, bool)
        if name.startswith("_") or name in reserved or not literal:
            return None
        found[name] = -value.value if negative else value.value
    return found or None


class SandboxScriptEngine(PythonScriptEngine):
    """Optional PythonScriptEngine whose expression errors include the sandbox's message.

    SpiffWorkflow's ``PythonScriptEngine.evaluate`` reports any expression failure as just
    "Error evaluating expression '...'" (the cause is only in ``__context__``); this subclass appends
    ``str(err)``, e.g. "...: Expression exceeded the time limit of 0.5s". Script tasks are unchanged.
    """

    def __init__(self, environment: SandboxEnvironment | None = None) -> None:
        super().__init__(environment=environment or SandboxEnvironment())

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        """Evaluate ``expression`` against ``task.data``; failures become WorkflowTaskException."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:
            raise WorkflowTaskException(f"Error evaluating expression '{expression}': {err}",
                                        task=task, exception=err) from err

