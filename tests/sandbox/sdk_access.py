"""Run in a subprocess by test_sdk_fidelity.py: every access-review response against the official SDK.

Usage: python sdk_access.py BASE_URL CLIENT_ID SECRET -> one JSON line {"checked": [...], "problems": [...]}.

Strict: each raw JSON body is walked against the SDK model's `swagger_types`/`attribute_map`; an
unknown field, a value of the wrong type, or an enum value the SDK does not know (it would become
"outdated_sdk_version") is a problem. Then the SDK's own API methods deserialise the same routes.
"""

from __future__ import annotations

import json
import re
import sys

import httpx

try:
    import PureCloudPlatformClientV2 as pc
except ImportError as e:
    print(json.dumps({"import_error": str(e)}))
    sys.exit(3)

_DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$")
_PRIMITIVE = {"str": str, "bool": bool, "int": int, "float": (int, float), "object": object}


def check(value, typ: str, where: str, problems: list[str]) -> None:
    """Walk `value` against SDK type name `typ`, appending problems."""
    if value is None:
        return
    if typ.startswith("list["):
        if not isinstance(value, list):
            problems.append(f"{where}: expected list, got {type(value).__name__}")
            return
        for k, item in enumerate(value):
            check(item, typ[5:-1], f"{where}[{k}]", problems)
        return
    if typ.startswith("dict("):
        inner = typ[5:-1].split(", ", 1)[1]
        if not isinstance(value, dict):
            problems.append(f"{where}: expected dict")
            return
        for k, item in value.items():
            check(item, inner, f"{where}.{k}", problems)
        return
    if typ in ("datetime", "date"):
        if not (isinstance(value, str) and (_DT.match(value) or typ == "date")):
            problems.append(f"{where}: bad {typ} {value!r}")
        return
    if typ in _PRIMITIVE:
        ok = isinstance(value, _PRIMITIVE[typ]) and not (typ in ("int", "float") and isinstance(value, bool))
        if not ok:
            problems.append(f"{where}: expected {typ}, got {value!r}")
        return
    cls = getattr(pc.models, typ, None) or getattr(pc, typ, None)
    if cls is None:
        problems.append(f"{where}: unknown model {typ}")
        return
    if not isinstance(value, dict):
        problems.append(f"{where}: expected {typ} object")
        return
    model = cls()
    wire = {v: k for k, v in model.attribute_map.items()}
    for key, item in value.items():
        if key not in wire:
            problems.append(f"{where}: unknown field {typ}.{key}")
            continue
        attr = wire[key]
        check(item, model.swagger_types[attr], f"{where}.{key}", problems)
        if isinstance(item, str):
            try:
                setattr(model, attr, item)
            except (TypeError, ValueError) as e:
                problems.append(f"{where}.{key}: {e}")
                continue
            if getattr(model, attr) == "outdated_sdk_version":
                problems.append(f"{where}.{key}: enum value {item!r} unknown to the SDK")


def main(base: str, client_id: str, secret: str) -> dict:
    token = httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                       auth=(client_id, secret)).json()["access_token"]
    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    problems: list[str] = []
    checked: list[str] = []

    def get(path: str, model: str, method: str = "GET", **kw):
        resp = http.request(method, path, **kw)
        if resp.status_code != 200:
            problems.append(f"{path}: HTTP {resp.status_code}")
            return None
        body = resp.json()
        check(body, model, path, problems)
        checked.append(model)
        return body

    roles = get("/api/v2/authorization/roles?pageSize=100", "OrganizationRoleEntityListing")
    rid = next(r["id"] for r in roles["entities"] if r["name"] == "Master Admin")
    get(f"/api/v2/authorization/roles/{rid}?expand=unusedPermissions", "DomainOrganizationRole")
    get(f"/api/v2/authorization/roles/{rid}/subjectgrants?pageSize=100", "SubjectDivisionGrantsEntityListing")
    get(f"/api/v2/authorization/roles/{rid}/users", "UserReferenceEntityListing")
    groups = get("/api/v2/groups?pageSize=100", "GroupEntityListing")
    gid = groups["entities"][1]["id"]
    get(f"/api/v2/authorization/subjects/{gid}", "AuthzSubject")
    get("/api/v2/authorization/divisions/home", "AuthzDivision")
    members = get(f"/api/v2/groups/{gid}/members?expand=authorization,groups,skills,languages,dateLastLogin",
                  "UserEntityListing")
    get(f"/api/v2/groups/{gid}/individuals", "UserEntityListing")
    for u in members["entities"][:5]:
        get(f"/api/v2/authorization/subjects/{u['id']}?includeDuplicates=true&includeFullRoles=true", "AuthzSubject")
        get(f"/api/v2/users/{u['id']}/queues?joined=false", "UserQueueEntityListing")
        get(f"/api/v2/users/{u['id']}/queues", "UserQueueEntityListing")
        get(f"/api/v2/users/{u['id']}/routingskills", "UserSkillEntityListing")
        get(f"/api/v2/users/{u['id']}/routinglanguages", "UserLanguageEntityListing")
    queues = get("/api/v2/routing/queues?pageSize=100", "QueueEntityListing")
    qid = max(queues["entities"], key=lambda q: q["memberCount"])["id"]
    get(f"/api/v2/routing/queues/{qid}", "Queue")
    get(f"/api/v2/routing/queues/{qid}/members?pageSize=100&expand=authorization", "QueueMemberEntityListing")
    get("/api/v2/license/users?pageSize=100", "UserLicensesEntityListing")
    get("/api/v2/license/definitions", "list[LicenseDefinition]")
    job = get("/api/v2/audits/query", "AuditQueryExecutionStatusResponse", "POST",
              json={"interval": "2025-12-01T00:00:00Z/2026-01-01T00:00:00Z",
                    "sort": [{"name": "Timestamp", "sortOrder": "ascending"}]})
    for _ in range(4):
        get(f"/api/v2/audits/query/{job['id']}", "AuditQueryExecutionStatusResponse")
    get(f"/api/v2/audits/query/{job['id']}/results?pageSize=100", "AuditQueryExecutionResultsResponse")
    get("/api/v2/audits/query/servicemapping", "AuditQueryServiceMapping")

    # The SDK's own methods on the same routes.
    pc.configuration.live_reload_config = False
    api_client = pc.ApiClient(host=base).get_client_credentials_token(client_id, secret)
    auth = pc.AuthorizationApi(api_client)
    sdk = {"roles": auth.get_authorization_roles(page_size=100).total,
           "subjectgrants": len(auth.get_authorization_role_subjectgrants(rid, page_size=100).entities),
           "home": auth.get_authorization_divisions_home().home_division,
           "subject": len(auth.get_authorization_subject(members["entities"][0]["id"], include_duplicates=True).grants)}
    routing = pc.RoutingApi(api_client)
    qm = routing.get_routing_queue_members(qid, page_size=100)
    sdk["queue_members"] = len(qm.entities)
    sdk["queue_members_next"] = qm.next_uri is not None
    sdk["user_queues"] = routing.get_routing_queues(page_size=100).total
    users_api = pc.UsersApi(api_client)
    sdk["skills"] = users_api.get_user_routingskills(members["entities"][0]["id"]).total
    sdk["user_queues_of_one"] = users_api.get_user_queues(members["entities"][0]["id"], joined=False).total
    lic = pc.LicenseApi(api_client)
    sdk["licence_users"] = lic.get_license_users(page_size=100).total
    sdk["definitions"] = len(lic.get_license_definitions())
    groups_api = pc.GroupsApi(api_client)
    sdk["group_members"] = groups_api.get_group_members(gid, page_size=100).total
    sdk["individuals"] = len(groups_api.get_group_individuals(gid).entities)
    audit = pc.AuditApi(api_client)
    req = pc.AuditQueryRequest()
    req.interval = "2025-12-01T00:00:00Z/2026-01-01T00:00:00Z"
    status = audit.post_audits_query(req)
    states = [status.state]
    while states[-1] not in ("Succeeded", "Failed", "Cancelled") and len(states) < 10:
        states.append(audit.get_audits_query_transaction_id(status.id).state)
    results = audit.get_audits_query_transaction_id_results(status.id, page_size=50)
    sdk["audit_states"] = states
    sdk["audit_results"] = len(results.entities)
    sdk["audit_event_year"] = results.entities[0].event_date.year
    sdk["services"] = len(audit.get_audits_query_servicemapping().services)
    try:
        limited = pc.ApiClient(host=base).get_client_credentials_token("no-queues-client", "no-queues-secret")
        pc.RoutingApi(limited).get_routing_queues()
        sdk["no_queues_status"] = 200
    except pc.rest.ApiException as e:
        sdk["no_queues_status"] = e.status
    return {"checked": checked, "problems": problems, "sdk": sdk}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
