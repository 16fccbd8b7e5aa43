"""How people read an application: the Chinese labels of its states, categories and relations.

Display only: the faces show them and the cases service words its timeline lines with them.
"""

from __future__ import annotations

from backend.cases.models import ApplicationStatus
from backend.cases.schemas import RELATIONS
from backend.windows.catalog import CATEGORIES

# How the applicant (and the clerk) reads each state.
STATUS_LABELS: dict[str, str] = {
    ApplicationStatus.RECEIVED: "已提交，待窗口受理",
    ApplicationStatus.ACCEPTED: "窗口已受理，进入审核",
    ApplicationStatus.MATERIALS_REQUESTED: "需要补充材料",
    ApplicationStatus.REFUSED: "不予受理",
}


def category_label(category: str) -> str:
    """The Chinese name of a category."""
    return CATEGORIES.get(category, (category, ""))[0]


def relation_label(relation: str) -> str:
    """The Chinese name of a relation."""
    return RELATIONS.get(relation, relation)
