"""docs/mp-statuses.json is the server's list of the statuses it sends the mini-program.

The mini-program's jest suite (miniprogram/__tests__/utils/statuses.test.js) holds its texts to
the same file, so a status added here without a text there fails one side or the other.
"""

from __future__ import annotations

import json
from pathlib import Path

from backend.api.mp import statuses
from backend.cases import labels as case_labels
from backend.cases.models import ApplicationStatus
from backend.intake.labels import SENDER_STATUS_LABELS
from backend.intake.models import LeadStatus

ROOT = Path(__file__).resolve().parents[2]
STATUSES_JSON = ROOT / "docs" / "mp-statuses.json"
REGENERATE = ".venv/bin/yimen mp-statuses > docs/mp-statuses.json"


def _file() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(STATUSES_JSON.read_text(encoding="utf-8"))
    return data


def test_the_file_lists_every_status_of_each_kind_with_the_label_sent() -> None:
    expected = {
        "help": {s.value: SENDER_STATUS_LABELS[s] for s in LeadStatus},
        "application": {s.value: case_labels.STATUS_LABELS[s] for s in ApplicationStatus},
    }
    assert _file() == expected, f"docs/mp-statuses.json is stale: {REGENERATE}"


def test_the_file_is_the_generators_output_byte_for_byte() -> None:
    assert STATUSES_JSON.read_text(encoding="utf-8") == statuses.render(), REGENERATE


def test_every_status_has_a_label_and_the_api_sends_it() -> None:
    for status in LeadStatus:
        assert statuses.help_status_label(status) == SENDER_STATUS_LABELS[status]
    for app_status in ApplicationStatus:
        label = case_labels.STATUS_LABELS[app_status]
        assert statuses.application_status_label(app_status) == label
    # No label for a status the server does not have.
    assert set(SENDER_STATUS_LABELS) == set(LeadStatus)
    assert set(case_labels.STATUS_LABELS) == set(ApplicationStatus)


def test_the_api_document_lists_the_same_statuses() -> None:
    doc = (ROOT / "docs" / "mp-api.md").read_text(encoding="utf-8")
    rows = {
        (cells[0], cells[1].strip("`"), cells[2].split(" (")[0])
        for line in doc.splitlines()
        if line.startswith(("| help |", "| application |"))
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    listed = {(kind, s, label) for kind, labels in _file().items() for s, label in labels.items()}
    assert rows == listed
