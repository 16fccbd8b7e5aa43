"""Every status the resident API sends, per kind of item, with the label it sends beside it.

The one list the mini-program is held to: docs/mp-statuses.json is this module's output, a
test on each side reads it (tests/mp/test_statuses.py checks it against the enums here, the
mini-program's jest suite checks that it has a text for exactly these statuses). After adding a
status, regenerate it:

    .venv/bin/yimen mp-statuses > docs/mp-statuses.json
"""

from __future__ import annotations

import json

from backend.cases import labels as case_labels
from backend.cases.models import ApplicationStatus
from backend.intake.labels import SENDER_STATUS_LABELS
from backend.intake.models import LeadStatus

# Indexed, not looked up with a default: a status without a label fails at import.
HELP_STATUS_LABELS: dict[str, str] = {s.value: SENDER_STATUS_LABELS[s] for s in LeadStatus}
APPLICATION_STATUS_LABELS: dict[str, str] = {
    s.value: case_labels.STATUS_LABELS[s] for s in ApplicationStatus
}
# kind (as the items carry it) -> status -> status_label.
RESIDENT_STATUSES: dict[str, dict[str, str]] = {
    "help": HELP_STATUS_LABELS,
    "application": APPLICATION_STATUS_LABELS,
}


def help_status_label(status: LeadStatus) -> str:
    """The status_label of a help request, as its sender reads it."""
    return HELP_STATUS_LABELS[status.value]


def application_status_label(status: ApplicationStatus) -> str:
    """The status_label of an application, as its applicant reads it."""
    return APPLICATION_STATUS_LABELS[status.value]


def render() -> str:
    """docs/mp-statuses.json as it must read, byte for byte."""
    return json.dumps(RESIDENT_STATUSES, ensure_ascii=False, indent=2) + "\n"
