"""Access reviews over snapshots: findings, snapshot diffs and the sign-off workbook.

    import genesys_nb as gnb
    gnb.findings("snapshots/2026-q4")            # one row per finding, every rule of gnb.RULES
    gnb.diff("snapshots/2026-q3", "snapshots/2026-q4").summary()
    gnb.review("snapshots/2026-q4", previous="snapshots/2026-q3").to_excel("review.xlsx")

``gnb.review`` is this package, and it is callable: ``gnb.review(new, previous=None, today=None, stale_days=90,
admin_roles=None)`` is :func:`genesys_nb.review.bundle.review` and returns a :class:`Review`. (Importing a
subpackage sets the package attribute of its name, so a function of the same name could not stay in place.)
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .bundle import Review, review
from .diff import KINDS, SnapshotDiff, diff
from .findings import FINDING_SCHEMA, findings
from .rules import RULES, Rule

__all__ = ["findings", "RULES", "Rule", "FINDING_SCHEMA", "diff", "SnapshotDiff", "KINDS", "review", "Review"]


class _CallableModule(types.ModuleType):
    """This package, callable as :func:`review`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Review:
        return review(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
