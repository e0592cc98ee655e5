"""Static catalogues of the access model: permissions, roles, licences, queues, audit services.

Role definitions keep their original permission specs (with `*` wildcards); the API renders them
expanded (`actionSet ["*"]` becomes the explicit actions, `entityName "*"` one policy per entity),
which `expand_specs` reproduces against `PERMISSIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass

# domain -> entity -> actions: the universe wildcards expand against.
PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "analytics": {"conversationAggregate": ("view",), "conversationDetail": ("view",), "queueObservation": ("view",),
                  "userAggregate": ("view",)},
    "audits": {"audit": ("view",)},
    "authorization": {"division": ("add", "delete", "edit", "view"), "grant": ("add", "delete", "view"),
                      "license": ("view",), "role": ("add", "delete", "edit", "view")},
    "conversation": {"call": ("accept", "view"), "message": ("accept", "view")},
    "directory": {"group": ("add", "delete", "edit", "view"), "organization": ("admin", "view"),
                  "team": ("add", "delete", "edit", "view"), "user": ("add", "delete", "edit", "view")},
    "notifications": {"notification": ("view",)},
    "quality": {"calibration": ("add", "view"), "evaluation": ("add", "delete", "edit", "view")},
    "routing": {"agent": ("manage", "view"), "language": ("add", "manage", "view"),
                "queue": ("add", "delete", "edit", "join", "readonly", "view"), "queueMember": ("manage",),
                "skill": ("add", "manage", "view")},
    "wfm": {"agent": ("view",), "schedule": ("edit", "view")},
}


@dataclass(frozen=True)
class RoleDef:
    """A role: `specs` are its permission specs as defined (wildcards kept)."""

    name: str
    description: str
    specs: tuple[str, ...]
    default_role_id: str | None = None
    base: bool = False
    general: tuple[str, ...] = ()

    @property
    def default(self) -> bool:
        """Built-in roles (those with a defaultRoleId) are the `default` ones."""
        return self.default_role_id is not None

    @property
    def is_admin(self) -> bool:
        """Admin role: a `*` in the original specs, or "Admin" in the name."""
        return "Admin" in self.name or any("*" in s for s in self.specs)


ROLES: tuple[RoleDef, ...] = (
    RoleDef("employee", "Default role assigned to every user", ("directory:user:view", "directory:group:view",
            "notifications:notification:view", "routing:skill:view"), "employee", True),
    RoleDef("Master Admin", "Full access to every feature", ("*:*:*",), "admin", False, ("group_creation",)),
    RoleDef("Admin", "Directory and grant administration", ("directory:*:*", "authorization:grant:*",
            "authorization:role:view", "routing:queue:*"), None, False, ("group_creation",)),
    RoleDef("Supervisor", "Supervise agents and queues", ("analytics:conversationDetail:view",
            "analytics:queueObservation:view", "routing:queue:view", "routing:agent:view", "quality:evaluation:view"),
            "supervisor", True),
    RoleDef("Agent", "Handle interactions", ("routing:agent:view", "routing:queue:join", "conversation:call:accept",
            "conversation:message:accept"), "agent", True),
    RoleDef("User", "Basic user", ("directory:user:view", "conversation:call:view"), "user", True),
    RoleDef("Quality Evaluator", "Evaluate interactions", ("quality:evaluation:add", "quality:evaluation:edit",
            "quality:evaluation:view", "quality:calibration:view"), "qualityEvaluator", True),
    RoleDef("Reporting Admin", "All analytics and audits", ("analytics:*:view", "audits:audit:view"), "reportingAdmin"),
    RoleDef("Trusted User", "Trusted external user", ("directory:user:view",), "trustedUser"),
    RoleDef("Communicate - User", "Communicate licence users", ("conversation:call:view", "conversation:call:accept"),
            "communicateUser", True),
    RoleDef("Billing Team Lead", "Custom: billing team leads", ("routing:queue:view", "routing:agent:view",
            "quality:evaluation:view")),
    RoleDef("WFM Scheduler", "Custom: workforce scheduling", ("wfm:schedule:edit", "wfm:schedule:view", "wfm:agent:view")),
    RoleDef("Outsourcer Viewer", "Custom: read-only for outsourcer staff", ("directory:user:view", "routing:queue:readonly")),
    RoleDef("Helpdesk Password Reset", "Custom: helpdesk", ("directory:user:edit", "directory:user:view")),
    RoleDef("Legacy Integration", "Custom: old integration account role", ("*:*:view",)),
)
ROLE_INDEX = {r.name: k for k, r in enumerate(ROLES)}
EMPLOYEE = ROLE_INDEX["employee"]
ALL_DIVISIONS = -1  # division code of `*` grants


def expand_specs(specs: tuple[str, ...]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(domain, entity, actions) per policy, wildcards expanded against PERMISSIONS, sorted."""
    got: dict[tuple[str, str], set[str]] = {}
    for spec in specs:
        d, e, a = spec.split(":")
        for dom in (PERMISSIONS if d == "*" else [d]):
            entities = PERMISSIONS.get(dom, {})
            for ent in (entities if e == "*" else [e]):
                actions = entities.get(ent, ())
                chosen = [x for x in actions if a == "*" or x == a]
                if chosen:
                    got.setdefault((dom, ent), set()).update(chosen)
    return [(d, e, tuple(sorted(a))) for (d, e), a in sorted(got.items())]


def role_permissions(k: int) -> list[str]:
    """The role's expanded permissions as `domain:entity:action` strings, sorted."""
    return [f"{d}:{e}:{a}" for d, e, acts in expand_specs(ROLES[k].specs) for a in acts]


ADMIN_ROLES = frozenset(k for k, r in enumerate(ROLES) if r.is_admin)

# Extra direct grants: (role, per-mille among users holding roles, division mode).
# Modes: home (division 0), own (the user's initial division), all (`*`), other (another division),
# mixed (`*` or home, half each).
EXTRA_GRANTS: tuple[tuple[int, int, str], ...] = (
    (ROLE_INDEX["Master Admin"], 4, "all"),
    (ROLE_INDEX["Admin"], 15, "mixed"),
    (ROLE_INDEX["Reporting Admin"], 20, "all"),
    (ROLE_INDEX["Quality Evaluator"], 60, "own"),
    (ROLE_INDEX["Trusted User"], 30, "home"),
    (ROLE_INDEX["Communicate - User"], 50, "own"),
    (ROLE_INDEX["Billing Team Lead"], 30, "own"),
    (ROLE_INDEX["WFM Scheduler"], 20, "other"),
    (ROLE_INDEX["Outsourcer Viewer"], 20, "other"),
    (ROLE_INDEX["Helpdesk Password Reset"], 10, "home"),
    (ROLE_INDEX["Legacy Integration"], 5, "all"),
    (ROLE_INDEX["Supervisor"], 30, "other"),
)
PRIMARY_ROLES = (ROLE_INDEX["User"], ROLE_INDEX["Agent"], ROLE_INDEX["Supervisor"])
# Grants of roles-enabled groups, cycled over them: (role, division mode: home, all, or a division offset).
GROUP_GRANTS: tuple[tuple[int, str], ...] = (
    (ROLE_INDEX["Admin"], "home"), (ROLE_INDEX["Supervisor"], "all"), (ROLE_INDEX["Quality Evaluator"], "own"),
    (ROLE_INDEX["Reporting Admin"], "all"), (ROLE_INDEX["Agent"], "own"), (ROLE_INDEX["Master Admin"], "home"),
    (ROLE_INDEX["WFM Scheduler"], "own"),
)


@dataclass(frozen=True)
class LicenceDef:
    """A licence definition; `addon` licences come on top of one base licence."""

    id: str
    description: str
    addon: bool
    permissions: tuple[str, ...]


LICENCES: tuple[LicenceDef, ...] = (
    LicenceDef("cloudcx1", "Genesys Cloud CX 1", False, ("routing:queue:join", "conversation:call:accept")),
    LicenceDef("cloudcx2", "Genesys Cloud CX 2", False, ("routing:queue:join", "conversation:message:accept")),
    LicenceDef("cloudcx3", "Genesys Cloud CX 3", False, ("routing:queue:join", "quality:evaluation:view")),
    LicenceDef("communicate", "Genesys Cloud Communicate", False, ("conversation:call:view",)),
    LicenceDef("wem-addon", "Workforce Engagement add-on", True, ("wfm:schedule:view",)),
    LicenceDef("speech-analytics-addon", "Speech and Text Analytics add-on", True, ("analytics:conversationDetail:view",)),
    LicenceDef("collaborate", "Genesys Cloud Collaborate", True, ("directory:user:view",)),
)

QUEUE_WORDS = ("Billing", "Technical Support", "Sales", "Retention", "Collections", "Escalations", "VIP Care",
               "Chat Support", "Email Support", "Social Care", "Callbacks", "Outbound", "Spanish", "French",
               "German", "Mortgages", "Insurance", "Claims", "Returns", "Warranty", "Onboarding", "Fraud")

# Audit services, their entity types and actions (what /audits/query/servicemapping returns).
AUDIT_SERVICES: dict[str, dict[str, tuple[str, ...]]] = {
    "PeoplePermissions": {"Role": ("Create", "Update", "Delete"), "User": ("AuthorizationChanged", "Update")},
    "Groups": {"Group": ("Create", "Update", "Delete", "MemberAdd", "MemberRemove")},
    "Routing": {"Queue": ("Create", "Update", "MemberAdd", "MemberRemove")},
    "Directory": {"User": ("Create", "Update", "Delete", "LicenseUpdate")},
    "Platform": {"OAuthClient": ("Create", "Update", "Authorize"), "AuthUser": ("Authorize",)},
}
