"""The published JSON Schema (``installer/answers.schema.json``), generated from the format."""
from __future__ import annotations

from typing import Any, Dict

from installer.answers.format_v1 import FORMAT


SCHEMA_PATH = "answers.schema.json"


def schema() -> Dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the answer file, generated from FORMAT."""
    out: Dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:mailwiz:answers:1",
        "title": "mailwiz answer file, version 1",
        "description": "Answers for a headless mailwiz run. The validator (mailwiz validate) also checks rules "
                       "this schema cannot express: host bits in networks, networks that trust the internet, "
                       "dead blocklists, and rules between keys.",
    }
    out.update(FORMAT.json())
    return out


def schema_json() -> str:
    import json
    return json.dumps(schema(), indent=2, ensure_ascii=True) + "\n"


def write_schema(path=None) -> str:
    """Write the committed copy (installer/answers.schema.json); returns the path written."""
    import os
    target = os.fspath(path) if path is not None else os.path.join(os.path.dirname(os.path.dirname(__file__)), SCHEMA_PATH)
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(schema_json())
    return target
