"""/engine-rest endpoints, shaped as Camunda 7's REST reference documents them."""

from __future__ import annotations

from flask import Response, current_app, request
from sqlalchemy import or_, select

from api.auth import current_actor, require_roles
from api.camunda import shapes
from api.camunda.common import body as _body
from api.camunda.common import camunda_blueprint
from api.camunda.common import text as _text
from api.camunda.variables import variables_in, variables_out
from api.errors import ApiError
from api.extensions import db
from api.routes.tasks import _candidate_filter
from api.state import get_engine
from engine import definitions
from engine.errors import EngineError, NotFound, TooLarge
from engine.models import ProcessDefinition, ProcessInstance, Task

bp = camunda_blueprint("camunda")
URL_PREFIX = "/engine-rest"
MAX_RESULTS = 1000


def _arg(name: str, cap: int = 255) -> str | None:
    value = request.args.get(name)
    if value is not None and len(value) > cap:
        raise ApiError(400, "InvalidRequestException", f"{name} is longer than {cap} characters")
    return value


def _int_arg(name: str) -> int | None:
    value = _arg(name, 20)
    if value is None:
        return None
    if not value.isdigit():
        raise ApiError(400, "InvalidRequestException", f"{name} must be a number")
    return int(value)


# ------------------------------------------------------------------ process definitions
@bp.get("/process-definition")
def list_definitions() -> list:
    """Latest version of each key (?latestVersion is implied); ?key= filters."""
    key = _arg("key")
    items = [d for d in definitions.latest_definitions(db.session) if key is None or d.key == key]
    return [shapes.definition(d) for d in items]


@bp.get("/process-definition/key/<key>")
def definition_by_key(key: str) -> dict:
    """The latest version of `key`."""
    return shapes.definition(definitions.get_definition(db.session, key, None))


@bp.post("/process-definition/key/<key>/start")
def start_by_key(key: str) -> dict:
    """Start the latest version of `key` with businessKey and typed variables."""
    body = _body()
    variables = variables_in(body.get("variables"))
    business_key = _text(body, "businessKey")
    inst, _ = get_engine().start(db.session, key, current_actor(), variables, business_key)
    out = shapes.instance(inst)
    if body.get("withVariablesInReturn") is True:
        out["variables"] = variables_out(inst.variables or {})
    return out


# ------------------------------------------------------------------ process instances
def _readable_instance(instance_id: str) -> ProcessInstance:
    inst = db.session.get(ProcessInstance, int(instance_id)) if instance_id.isdigit() and len(instance_id) < 19 \
        else None
    if inst is None or not get_engine().can_read_instance(db.session, inst, current_actor()):
        raise NotFound(f"Process instance with id {instance_id[:50]} does not exist")
    return inst


def _readable_instances(query):  # noqa: ANN001, ANN202
    actor = current_actor()
    rows = db.session.scalars(query.order_by(ProcessInstance.id).limit(MAX_RESULTS)).all()
    return [r for r in rows if actor.is_admin or get_engine().can_read_instance(db.session, r, actor)]


@bp.get("/process-instance/<instance_id>")
def get_instance(instance_id: str) -> dict:
    """One process instance."""
    return shapes.instance(_readable_instance(instance_id))


@bp.get("/process-instance")
def list_instances() -> list:
    """Running instances, by businessKey and processDefinitionKey."""
    query = select(ProcessInstance).where(ProcessInstance.status.in_(("running", "error")))
    if _arg("businessKey") is not None:
        query = query.where(ProcessInstance.business_key == _arg("businessKey"))
    if _arg("processDefinitionKey") is not None:
        query = query.where(ProcessInstance.process_key == _arg("processDefinitionKey"))
    return [shapes.instance(i) for i in _readable_instances(query)]


@bp.delete("/process-instance/<instance_id>")
def delete_instance(instance_id: str) -> tuple[str, int]:
    """Cancel a running instance (its starter or an admin)."""
    inst = _readable_instance(instance_id)
    get_engine().cancel(db.session, inst.id, current_actor(), _arg("deleteReason", 1000))
    return "", 204


@bp.get("/process-instance/<instance_id>/variables")
def instance_variables(instance_id: str) -> dict:
    """The instance's variables, typed."""
    return variables_out(_readable_instance(instance_id).variables or {})


@bp.get("/history/process-instance")
def history_instances() -> list:
    """Historic instances (any status) by processInstanceId, businessKey or processDefinitionKey."""
    query = select(ProcessInstance)
    pid = _arg("processInstanceId")
    if pid is not None:
        query = query.where(ProcessInstance.id == (int(pid) if pid.isdigit() and len(pid) < 19 else -1))
    for name, column in (("processInstanceBusinessKey", ProcessInstance.business_key),
                         ("processDefinitionKey", ProcessInstance.process_key)):
        if _arg(name) is not None:
            query = query.where(column == _arg(name))
    return [shapes.history(i) for i in _readable_instances(query)]


# ------------------------------------------------------------------ messages
@bp.post("/message")
def correlate() -> Response | tuple[list, int] | list:
    """Correlate a message by name and business key; 204, or the result with resultEnabled. Integrators and
    admins only, as `POST /api/v1/messages`."""
    require_roles("integrator", "admin")
    body = _body()
    name = _text(body, "messageName", required=True)
    variables = variables_in(body.get("processVariables"), "processVariables")
    inst, started = get_engine().correlate(db.session, current_actor(), name, _text(body, "businessKey"), variables)
    if body.get("resultEnabled") is True:
        if started:
            return [{"resultType": "ProcessDefinition", "processInstance": shapes.instance(inst)}]
        return [{"resultType": "Execution", "execution": {"id": str(inst.id), "processInstanceId": str(inst.id),
                                                          "ended": inst.status != "running", "tenantId": None}}]
    return Response(status=204)


# ------------------------------------------------------------------ tasks
def _definition_ids(rows: list[Task]) -> dict[int, str]:
    ids = {r.instance_id for r in rows}
    if not ids:
        return {}
    pairs = db.session.execute(select(ProcessInstance.id, ProcessDefinition).join(
        ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id).where(
        ProcessInstance.id.in_(ids))).all()
    return {pid: shapes.definition_id(d) for pid, d in pairs}


def _task_out(rows: list[Task]) -> list[dict]:
    ids = _definition_ids(rows)
    return [shapes.task(r, ids.get(r.instance_id)) for r in rows]


@bp.get("/task")
def list_tasks() -> list:
    """Open tasks the caller may see, by assignee, candidateUser, candidateGroup, instance and definition key."""
    actor = current_actor()
    query = select(Task).where(Task.status == "open").order_by(Task.created_at, Task.id)
    if _arg("assignee") is not None:
        query = query.where(Task.assignee == _arg("assignee"))
    if _arg("candidateUser") is not None:  # offered to the user directly or through one of their groups
        from oa.org import OrgDirectory
        candidate = _arg("candidateUser")
        groups = sorted(OrgDirectory(db.session).groups_of(candidate))
        query = query.where(Task.assignee.is_(None), _candidate_filter(candidate, groups))
    if _arg("candidateGroup") is not None:
        query = query.where(Task.assignee.is_(None), _candidate_filter("", [_arg("candidateGroup")]))
    if _arg("processInstanceId") is not None:
        pid = _arg("processInstanceId")
        query = query.where(Task.instance_id == (int(pid) if pid.isdigit() and len(pid) < 19 else -1))
    if _arg("processDefinitionKey") is not None:
        query = query.where(Task.process_key == _arg("processDefinitionKey"))
    if not actor.is_admin:  # the same rule as /api/v1/tasks: mine, or offered to me
        query = query.where(or_(Task.assignee == actor.username,
                                Task.assignee.is_(None) & _candidate_filter(actor.username, sorted(actor.groups))))
    first, most = _int_arg("firstResult") or 0, min(_int_arg("maxResults") or MAX_RESULTS, MAX_RESULTS)
    return _task_out(list(db.session.scalars(query.offset(first).limit(most)).all()))


def _readable_task(task_id: str) -> Task:
    row = db.session.get(Task, task_id) if len(task_id) <= 36 else None
    if row is None:
        raise NotFound(f"No matching task with id {task_id[:50]}")
    try:
        get_engine().check_task_access(db.session, row, current_actor())
    except EngineError:
        raise NotFound(f"No matching task with id {task_id[:50]}") from None
    return row


@bp.get("/task/<task_id>")
def get_task(task_id: str) -> dict:
    """One task."""
    return _task_out([_readable_task(task_id)])[0]


@bp.get("/task/<task_id>/variables")
def task_variables(task_id: str) -> dict:
    """The variables the task sees (its instance's), typed."""
    row = _readable_task(task_id)
    return variables_out(db.session.get(ProcessInstance, row.instance_id).variables or {})


@bp.post("/task/<task_id>/claim")
def claim(task_id: str) -> Response:
    """Claim a task for userId, which must be the caller."""
    body = _body()
    user = _text(body, "userId", required=True)
    if user != current_actor().username:
        raise ApiError(403, "AuthorizationException", "you may only claim a task for yourself")
    row = _readable_task(task_id)
    get_engine().claim(db.session, task_id, current_actor(), row=row)
    return Response(status=204)


@bp.post("/task/<task_id>/unclaim")
def unclaim(task_id: str) -> Response:
    """Give a claimed task back to its candidates."""
    row = _readable_task(task_id)
    get_engine().unclaim(db.session, task_id, current_actor(), row=row)
    return Response(status=204)


@bp.post("/task/<task_id>/complete")
def complete(task_id: str) -> Response | dict:
    """Complete a task with typed variables; 204, or the instance's variables with withVariablesInReturn."""
    body = _body()
    variables = variables_in(body.get("variables"))
    _readable_task(task_id)
    get_engine().complete(db.session, task_id, current_actor(), variables, None)
    if body.get("withVariablesInReturn") is True:
        row = db.session.get(Task, task_id)
        return variables_out(db.session.get(ProcessInstance, row.instance_id).variables or {})
    return Response(status=204)


# ------------------------------------------------------------------ deployments
@bp.post("/deployment/create")
def create_deployment() -> dict:
    """Deploy the multipart file parts (any part name); deployment-name names the deployment."""
    from api.auth import current_user, require_roles
    require_roles("designer", "admin")
    if not request.mimetype.startswith("multipart/form-data"):
        raise ApiError(400, "InvalidRequestException", "send multipart/form-data")
    cap = int(current_app.config["OAFLOW_MAX_FILE_BYTES"])
    files: dict[str, bytes] = {}
    for storage in request.files.values():
        name = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name or name in files:
            raise ApiError(400, "InvalidRequestException", "every file part needs a distinct file name")
        content = storage.read(cap + 1)
        if len(content) > cap:
            raise TooLarge(f"file '{name[:100]}' is larger than {cap} bytes")
        files[name] = content
    if not files:
        raise ApiError(400, "InvalidRequestException", "no resources to deploy")
    name = request.form.get("deployment-name")
    try:
        result = definitions.deploy(db.session, files, get_engine().services.signatures(),
                                    name=name[:255] if name else None, user=current_user().username)
        db.session.commit()
        get_engine().start_timer_processes(db.session, [d for d, c in zip(result.definitions, result.created,
                                                                           strict=True) if c])
    except Exception:
        db.session.rollback()
        raise
    href = f"{request.host_url.rstrip('/')}/engine-rest/deployment/{result.deployment_id}"
    return {"links": [{"method": "GET", "href": href, "rel": "self"}], "id": str(result.deployment_id),
            "name": name, "source": request.form.get("deployment-source"),
            "deploymentTime": shapes.camunda_date(result.definitions[0].created_at) if result.definitions else None,
            "tenantId": None,
            "deployedProcessDefinitions": {shapes.definition_id(d): shapes.definition(d)
                                           for d, c in zip(result.definitions, result.created, strict=True) if c},
            "deployedCaseDefinitions": None, "deployedDecisionDefinitions": None,
            "deployedDecisionRequirementsDefinitions": None}
