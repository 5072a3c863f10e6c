"""Rewrite tests/fixtures/known_signature_differences.json from the audit as it stands.

    python tools/update_signature_differences.py

Entries keep their reason; a new difference gets "not_yet" (change it to the reason that
applies, or fix the signature); a difference that has gone is dropped. Run it after
fixing a signature, and read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

import signature_audit  # noqa: E402

PATH = os.path.join(HERE, "..", "tests", "fixtures", "known_signature_differences.json")


def main() -> None:
    with open(PATH, encoding="utf-8") as f:
        known = json.load(f)
    found = signature_audit.differences()
    old = known["differences"]
    known["differences"] = {
        name: {"differences": diff, "reason": old.get(name, {}).get("reason", "not_yet")}
        for name, diff in sorted(found.items())
    }
    with open(PATH, "w", encoding="utf-8") as f:
        json.dump(known, f, indent=1, sort_keys=True)
        f.write("\n")
    gone, new = sorted(set(old) - set(found)), sorted(set(found) - set(old))
    print(f"{len(found)} differences; gone: {gone}; new: {new}")


if __name__ == "__main__":
    main()
