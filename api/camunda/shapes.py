"""Camunda 7 JSON shapes of oaflow's definitions, instances, tasks and history."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request

from engine.models import ProcessDefinition, ProcessInstance, Task


def camunda_date(value: datetime | None) -> str | None:
    """A timestamp in Camunda's format, e.g. 2013-06-30T21:33:31.000+0000 (naive times are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}" + value.strftime("%z")


def definition_id(d: ProcessDefinition) -> str:
    """Camunda's `key:version:id` definition id."""
    return f"{d.key}:{d.version}:{d.id}"


def definition(d: ProcessDefinition) -> dict:
    """A process definition as Camunda shows it."""
    return {"id": definition_id(d), "key": d.key, "category": None, "description": None, "name": d.name,
            "version": d.version, "resource": d.bpmn_file, "deploymentId": str(d.deployment_id), "diagram": None,
            "suspended": False, "tenantId": None, "versionTag": None, "historyTimeToLive": None,
            "startableInTasklist": True}


def instance(inst: ProcessInstance) -> dict:
    """A process instance as Camunda shows it (`ended`: no longer running)."""
    href = f"{request.host_url.rstrip('/')}/engine-rest/process-instance/{inst.id}"
    return {"links": [{"method": "GET", "href": href, "rel": "self"}], "id": str(inst.id),
            "definitionId": definition_id(inst.definition), "businessKey": inst.business_key,
            "caseInstanceId": None, "ended": inst.status in ("completed", "cancelled"),
            "suspended": False, "tenantId": None}


_STATES = {"running": "ACTIVE", "completed": "COMPLETED", "cancelled": "EXTERNALLY_TERMINATED",
           "error": "ACTIVE"}


def history(inst: ProcessInstance) -> dict:
    """A historic process instance as Camunda shows it."""
    d = inst.definition
    duration = None
    if inst.ended_at is not None:
        duration = int((inst.ended_at - inst.started_at).total_seconds() * 1000)
    return {"id": str(inst.id), "businessKey": inst.business_key, "processDefinitionId": definition_id(d),
            "processDefinitionKey": d.key, "processDefinitionName": d.name, "processDefinitionVersion": d.version,
            "startTime": camunda_date(inst.started_at), "endTime": camunda_date(inst.ended_at),
            "durationInMillis": duration, "startUserId": inst.started_by, "startActivityId": None,
            "deleteReason": None, "superProcessInstanceId": None, "superCaseInstanceId": None,
            "caseInstanceId": None, "tenantId": None, "state": _STATES.get(inst.status, "ACTIVE")}


def task(row: Task, definition_key_id: str | None = None) -> dict:
    """A task as Camunda shows it."""
    return {"id": row.id, "name": row.name, "assignee": row.assignee, "owner": row.owner,
            "created": camunda_date(row.created_at), "due": camunda_date(row.due_at), "followUp": None,
            "delegationState": "PENDING" if row.delegation == "delegated" else None, "description": None,
            "executionId": str(row.instance_id), "parentTaskId": None, "priority": 50,
            "processDefinitionId": definition_key_id, "processInstanceId": str(row.instance_id),
            "taskDefinitionKey": row.element_id, "caseExecutionId": None, "caseInstanceId": None,
            "caseDefinitionId": None, "suspended": False, "formKey": row.form, "tenantId": None}
