"""The signature audit: every public callable of Keras 3.15 (its snapshot in
tests/fixtures/keras_signatures.json: functions, classes' constructors, the methods of the
base classes users subclass) against shendu's: parameter names, order and defaults.

Each difference that remains is listed in tests/fixtures/known_signature_differences.json
with its reason (the "reasons" table there). A new difference fails the test, and so does
a listed one that has gone (remove it from the list), so the list stays true.
"""

import json
import os

import pytest

from . import signature_audit

KNOWN = os.path.join(os.path.dirname(__file__), "fixtures", "known_signature_differences.json")


@pytest.fixture(scope="module")
def audit():
    with open(KNOWN, encoding="utf-8") as f:
        known = json.load(f)
    return signature_audit.differences(), known


def test_no_signature_differs_from_keras_unless_listed(audit):
    found, known = audit
    listed = {name: entry["differences"] for name, entry in known["differences"].items()}
    new = {name: diff for name, diff in found.items() if listed.get(name) != diff}
    assert not new, f"signatures that differ from Keras 3.15's and are not listed: {new}"


def test_every_listed_difference_is_still_there_and_has_a_reason(audit):
    found, known = audit
    gone = sorted(set(known["differences"]) - set(found))
    assert not gone, f"listed differences that no longer exist (remove them): {gone}"
    for name, entry in known["differences"].items():
        assert entry["reason"] in known["reasons"], name
    assert all(len(text) > 60 for text in known["reasons"].values())


def test_the_snapshot_covers_keras_public_api(audit):
    snapshot = signature_audit.snapshot()
    assert snapshot["keras"].startswith("3.")
    signatures = snapshot["signatures"]
    assert len(signatures) > 1300
    for name in ("layers.Dense", "Variable", "models.Model.fit", "distillation.Distiller"):
        assert name in signatures
    found, known = audit
    assert len(found) <= 74  # 225 of 1,402 differed when the audit began
