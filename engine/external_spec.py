"""External tasks in the model: a `serviceTask camunda:type="external" camunda:topic="…"` is parsed as an
`ExternalTaskSpec`, a wait state (its task stays STARTED) that an external worker completes over HTTP."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
MAX_PRIORITY = 2**31 - 1


class ExternalTaskSpec(SpiffBpmnTask):
    """Waits for an external worker: running it leaves the task STARTED until a worker completes it."""

    def __init__(self, wf_spec: Any, bpmn_id: str, topic: str, priority: int = 0, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic
        self.priority = priority

    def _run_hook(self, my_task: Any) -> None:
        return None  # STARTED: the external worker's complete (or a BPMN error) moves the flow on


def external_attributes(node: Any) -> tuple[str, int] | None:
    """(topic, priority) of a camunda external service task element, or None for any other service task."""
    if node.get(f"{{{CAMUNDA_NS}}}type") != "external":
        return None
    topic = (node.get(f"{{{CAMUNDA_NS}}}topic") or "").strip()
    raw = (node.get(f"{{{CAMUNDA_NS}}}taskPriority") or "0").strip()
    priority = int(raw) if raw.lstrip("-").isdigit() and abs(int(raw)) <= MAX_PRIORITY else 0
    return topic, priority


class ExternalAwareServiceTaskParser(ServiceTaskParser):
    """Service tasks: camunda external ones become ExternalTaskSpec, the others spiff ServiceTask."""

    def create_task(self) -> Any:
        found = external_attributes(self.node)
        if found is None:
            return super().create_task()
        topic, priority = found
        if not topic or len(topic) > 255:
            raise ValidationException("an external service task needs a camunda:topic of 1 to 255 characters",
                                      node=self.node, file_name=self.filename)
        return ExternalTaskSpec(self.spec, self.bpmn_id, topic=topic, priority=priority, **self.bpmn_attributes)


class OaflowBpmnParser(SpiffBpmnParser):
    """The spiff parser with camunda external service tasks."""

    OVERRIDE_PARSER_CLASSES = {**SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
                               full_tag("serviceTask"): (ExternalAwareServiceTaskParser, ServiceTask)}
