"""Instance state without the spec: serialize SpiffWorkflow workflows and restore them onto cached specs."""

from __future__ import annotations

import json
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


class _StatelessSpecConverter(BpmnWorkflowConverter):
    """Leaves the spec out of the state; restores onto spec objects handed in by the caller."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict) -> BpmnWorkflow:
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs", {})
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = _StatelessSpecConverter
_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))


def dump_state(workflow: BpmnWorkflow) -> str:
    """The workflow's state as JSON text, without its spec."""
    dct = _serializer.to_dict(workflow)
    dct[_serializer.VERSION_KEY] = _serializer.VERSION
    return json.dumps(dct, separators=(",", ":"), cls=_serializer.json_encoder_cls)


def load_state(state: str, spec: object, subprocess_specs: dict) -> BpmnWorkflow:
    """Rebuild a workflow from `dump_state` output onto already-parsed specs."""
    dct = json.loads(state, cls=_serializer.json_decoder_cls)
    dct.pop(_serializer.VERSION_KEY, None)
    dct["spec"] = spec
    dct["subprocess_specs"] = subprocess_specs
    return _serializer.from_dict(dct)
