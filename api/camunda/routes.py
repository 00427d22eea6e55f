"""/engine-rest endpoints, shaped as Camunda 7's REST reference documents them."""

from __future__ import annotations

from flask import Response, current_app, request
from sqlalchemy import false, func, or_, select

from api.auth import current_actor, require_roles
from api.camunda import query, shapes
from api.camunda.common import body as _body
from api.camunda.common import camunda_blueprint, refuse_unstorable
from api.camunda.common import text as _text
from api.camunda.variables import remember_types, types_of, variables_in, variables_out
from api.errors import ApiError
from api.extensions import db
from api.routes.tasks import _candidate_filter
from api.state import get_engine
from engine import definitions
from engine.access import readable_instances
from engine.errors import EngineError, NotFound, TooLarge
from engine.models import DeploymentFile, ProcessDefinition, ProcessInstance, Task

bp = camunda_blueprint("camunda")
URL_PREFIX = "/engine-rest"
MAX_RESULTS = 1000
_ENDED = ("completed", "cancelled")


def _arg(name: str, cap: int = 255) -> str | None:
    value = request.args.get(name)
    if value is not None and len(value) > cap:
        raise ApiError(400, "InvalidRequestException", f"{name} is longer than {cap} characters")
    if value is not None:
        refuse_unstorable(value, name)
    return value


def _page() -> tuple[int, int]:
    """(firstResult, maxResults): 400 for a value that is not an integer Camunda could take, and for a
    maxResults above MAX_RESULTS as Camunda's queryMaxResultsLimit refuses it (a client asking for 5,000 rows
    must not take 1,000 for all there is). Without maxResults a list answers its first MAX_RESULTS rows."""
    first, most = query.integer("firstResult"), query.integer("maxResults")
    if most is not None and most > MAX_RESULTS:
        raise query.MaxResultsExceeded(400, "Bad request", f"Max results limit of {MAX_RESULTS} exceeded!")
    return first or 0, most if most is not None else MAX_RESULTS


# ------------------------------------------------------------------ process definitions
@bp.get("/process-definition")
def list_definitions() -> list:
    """Latest version of each key (?latestVersion is implied); ?key= filters."""
    query.only({"key", "latestVersion"})
    key = _arg("key")
    items = [d for d in definitions.latest_definitions(db.session) if key is None or d.key == key]
    return [shapes.definition(d) for d in items]


@bp.get("/process-definition/count")
def count_definitions() -> dict:
    """How many definitions the same ?key= filter lists."""
    return {"count": len(list_definitions())}


@bp.get("/process-definition/key/<key>")
def definition_by_key(key: str) -> dict:
    """The latest version of `key`."""
    return shapes.definition(definitions.get_definition(db.session, key, None))


@bp.get("/process-definition/key/<key>/xml")
def definition_xml_by_key(key: str) -> dict:
    """The BPMN 2.0 XML of the latest version of `key`: {"id", "bpmn20Xml"} as Camunda answers it."""
    d = definitions.get_definition(db.session, key, None)
    content = db.session.scalar(select(DeploymentFile.content).where(
        DeploymentFile.deployment_id == d.deployment_id, DeploymentFile.name == d.bpmn_file))
    if content is None:
        raise NotFound(f"the BPMN file of {key} is missing")
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    return {"id": shapes.definition_id(d), "bpmn20Xml": text}


@bp.post("/process-definition/key/<key>/start")
def start_by_key(key: str) -> dict:
    """Start the latest version of `key` with businessKey and typed variables."""
    body = _body()
    variables = variables_in(body.get("variables"))
    business_key = _text(body, "businessKey")
    inst, _ = get_engine().start(db.session, key, current_actor(), variables, business_key)
    remember_types(inst.id, body.get("variables"))
    out = shapes.instance(inst)
    if body.get("withVariablesInReturn") is True:
        out["variables"] = variables_out(inst.variables or {}, types_of(inst.id))
    return out


# ------------------------------------------------------------------ process instances
def _readable_instance(instance_id: str) -> ProcessInstance:
    inst = db.session.get(ProcessInstance, int(instance_id)) if instance_id.isdigit() and len(instance_id) < 19 \
        else None
    if inst is None or not get_engine().can_read_instance(db.session, inst, current_actor()):
        raise NotFound(f"Process instance with id {instance_id[:50]} does not exist")
    return inst


def _visible(rows):  # noqa: ANN001, ANN202
    actor = current_actor()
    return rows if actor.is_admin else rows.where(readable_instances(actor))


_INSTANCE_SORTS = {"instanceId": ProcessInstance.id, "definitionKey": ProcessInstance.process_key,
                   "definitionId": ProcessInstance.definition_id, "businessKey": ProcessInstance.business_key}
_HISTORY_SORTS = {**_INSTANCE_SORTS, "startTime": ProcessInstance.started_at, "endTime": ProcessInstance.ended_at}


def _readable_instances(rows, sorts: dict) -> list:  # noqa: ANN001
    first, most = _page()
    order = query.ordering(sorts, [ProcessInstance.id], ProcessInstance.id)
    return db.session.scalars(_visible(rows).order_by(*order).offset(first).limit(most)).all()


def _count(rows) -> int:  # noqa: ANN001
    """How many rows of `rows` the caller may read (the same access condition as the lists)."""
    return db.session.scalar(select(func.count()).select_from(_visible(rows).subquery()))


@bp.get("/process-instance/count")
def count_instances() -> dict:
    """How many running instances match businessKey and processDefinitionKey."""
    return {"count": _count(_running_query())}


@bp.get("/process-instance/<instance_id>")
def get_instance(instance_id: str) -> dict:
    """One process instance."""
    return shapes.instance(_readable_instance(instance_id))


@bp.get("/process-instance")
def list_instances() -> list:
    """Running instances, by businessKey and processDefinitionKey."""
    return [shapes.instance(i) for i in _readable_instances(_running_query(), _INSTANCE_SORTS)]


def _running_query():  # noqa: ANN202
    query.only({"businessKey", "processDefinitionKey"} | query.PAGING | query.SORTING)
    rows = select(ProcessInstance).where(ProcessInstance.status.not_in(_ENDED))
    if _arg("businessKey") is not None:
        rows = rows.where(ProcessInstance.business_key == _arg("businessKey"))
    if _arg("processDefinitionKey") is not None:
        rows = rows.where(ProcessInstance.process_key == _arg("processDefinitionKey"))
    return rows


@bp.delete("/process-instance/<instance_id>")
def delete_instance(instance_id: str) -> tuple[str, int]:
    """Cancel a running instance (its starter or an admin)."""
    inst = _readable_instance(instance_id)
    get_engine().cancel(db.session, inst.id, current_actor(), _arg("deleteReason", 1000))
    return "", 204


@bp.get("/process-instance/<instance_id>/variables")
def instance_variables(instance_id: str) -> dict:
    """The instance's variables, typed."""
    inst = _readable_instance(instance_id)
    return variables_out(inst.variables or {}, types_of(inst.id))


def _history_query():  # noqa: ANN202
    """Historic instances (any status) filtered as Camunda's GET /history/process-instance documents."""
    keys = ("processInstanceBusinessKey", "businessKey", "processDefinitionKey", "startedBy")
    times = ("startedAfter", "startedBefore", "finishedAfter", "finishedBefore")
    query.only({"processInstanceId", *keys, "finished", "unfinished", "superProcessInstanceId", *times}
               | query.PAGING | query.SORTING)
    rows = select(ProcessInstance)
    pid = _arg("processInstanceId")
    if pid is not None:
        rows = rows.where(ProcessInstance.id == (int(pid) if pid.isdigit() and len(pid) < 19 else -1))
    for name, column in zip(keys, (ProcessInstance.business_key, ProcessInstance.business_key,
                                   ProcessInstance.process_key, ProcessInstance.started_by), strict=True):
        if _arg(name) is not None:
            rows = rows.where(column == _arg(name))
    for name, column, after in (("startedAfter", ProcessInstance.started_at, True),
                                ("startedBefore", ProcessInstance.started_at, False),
                                ("finishedAfter", ProcessInstance.ended_at, True),
                                ("finishedBefore", ProcessInstance.ended_at, False)):
        when = query.moment(name)
        if when is not None:
            rows = rows.where(column >= when if after else column <= when)
    if query.boolean("finished"):
        rows = rows.where(ProcessInstance.status.in_(_ENDED))
    if query.boolean("unfinished"):
        rows = rows.where(ProcessInstance.status.not_in(_ENDED))
    if _arg("superProcessInstanceId") is not None:  # call activities run inside their caller: no sub-instances
        rows = rows.where(false())
    return rows


@bp.get("/history/process-instance")
def history_instances() -> list:
    """Historic instances by processInstanceId, (processInstance)businessKey, processDefinitionKey, startedBy,
    finished, unfinished and superProcessInstanceId."""
    return [shapes.history(i) for i in _readable_instances(_history_query(), _HISTORY_SORTS)]


@bp.get("/history/process-instance/count")
def history_count() -> dict:
    """How many historic instances the same filters match."""
    return {"count": _count(_history_query())}


@bp.get("/history/process-instance/<instance_id>")
def history_instance(instance_id: str) -> dict:
    """One historic instance (any status)."""
    return shapes.history(_readable_instance(instance_id))


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
    remember_types(inst.id, body.get("processVariables"))
    if body.get("resultEnabled") is True or body.get("variablesInResultEnabled") is True:
        if started:
            result = {"resultType": "ProcessDefinition", "processInstance": shapes.instance(inst)}
        else:
            result = {"resultType": "Execution", "execution": {"id": str(inst.id), "processInstanceId": str(inst.id),
                                                              "ended": inst.status != "running", "tenantId": None}}
        if body.get("variablesInResultEnabled") is True:
            result["variables"] = variables_out(inst.variables or {}, types_of(inst.id))
        return [result]
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
    first, most = _page()
    return _task_out(list(db.session.scalars(_task_query().offset(first).limit(most)).all()))


@bp.get("/task/count")
def count_tasks() -> dict:
    """How many open tasks the same filters match."""
    return {"count": db.session.scalar(select(func.count()).select_from(_task_query().subquery()))}


_TASK_SORTS = {"id": Task.id, "name": Task.name, "assignee": Task.assignee, "created": Task.created_at,
               "dueDate": Task.due_at, "instanceId": Task.instance_id, "processInstanceId": Task.instance_id}


def _task_query():  # noqa: ANN202
    query.only({"assignee", "candidateUser", "candidateGroup", "processInstanceId", "processDefinitionKey"}
               | query.PAGING | query.SORTING)
    order = query.ordering(_TASK_SORTS, [Task.created_at, Task.id], Task.id)
    actor = current_actor()
    rows = select(Task).where(Task.status == "open").order_by(*order)
    if _arg("assignee") is not None:
        rows = rows.where(Task.assignee == _arg("assignee"))
    if _arg("candidateUser") is not None:  # offered to the user directly or through one of their groups
        from oa.org import OrgDirectory
        candidate = _arg("candidateUser")
        groups = sorted(OrgDirectory(db.session).groups_of(candidate))
        rows = rows.where(Task.assignee.is_(None), _candidate_filter(candidate, groups))
    if _arg("candidateGroup") is not None:
        rows = rows.where(Task.assignee.is_(None), _candidate_filter("", [_arg("candidateGroup")]))
    if _arg("processInstanceId") is not None:
        pid = _arg("processInstanceId")
        rows = rows.where(Task.instance_id == (int(pid) if pid.isdigit() and len(pid) < 19 else -1))
    if _arg("processDefinitionKey") is not None:
        rows = rows.where(Task.process_key == _arg("processDefinitionKey"))
    if not actor.is_admin:  # the same rule as /api/v1/tasks: mine, or offered to me
        rows = rows.where(or_(Task.assignee == actor.username,
                              Task.assignee.is_(None) & _candidate_filter(actor.username, sorted(actor.groups))))
    return rows


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
    return variables_out(db.session.get(ProcessInstance, row.instance_id).variables or {}, types_of(row.instance_id))


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
    """Reset the task's assignee (Camunda: 204, also when it has none); a task assigned directly keeps its
    former assignee as its candidate."""
    row = _readable_task(task_id)
    if row.assignee is not None:
        get_engine().unclaim(db.session, task_id, current_actor(), row=row)
    return Response(status=204)


@bp.post("/task/<task_id>/complete")
def complete(task_id: str) -> Response | dict:
    """Complete a task with typed variables; 204, or the instance's variables with withVariablesInReturn."""
    body = _body()
    variables = variables_in(body.get("variables"))
    instance_id = _readable_task(task_id).instance_id
    get_engine().complete(db.session, task_id, current_actor(), variables, None)
    remember_types(instance_id, body.get("variables"))
    if body.get("withVariablesInReturn") is True:
        return variables_out(db.session.get(ProcessInstance, instance_id).variables or {}, types_of(instance_id))
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
    refuse_unstorable({k: request.form.get(k) for k in ("deployment-name", "deployment-source")})
    try:
        result = definitions.deploy(db.session, files, get_engine().services.signatures(),
                                    name=name[:255] if name else None, user=current_user().username,
                                    user_exists=get_engine().directory(db.session).user_exists)
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
