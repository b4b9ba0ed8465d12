"""Write Tibetan approved on the translation desk back into templates_bo_zh/hazards.toml.

The file is edited as text, line by line, so its comments and layout stay as people wrote them: a hazard's
name becomes `names.bo` with `bo_status = "sourced"` and the desk as `bo_source`; a level's default action gains
`bo` and `bo_source` under its `[hazard.actions.<level>]`, and a protective action chosen by code under its
`[protective_actions.<code>]`. `flask templates check` then reads the result.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

_CODE = re.compile(r'^code\s*=\s*"([^"]+)"', re.MULTILINE)
_TABLE = re.compile(r"^\[([^\[\]]+)\]\s*$")   # a [table], not the [[hazard]] that opens a block


@dataclass(frozen=True)
class Approved:
    bo: str
    source: str


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)   # a TOML basic string for any text


def export_hazards(text: str, names: Mapping[str, Approved], actions: Mapping[tuple[str, str], Approved],
                   protective: Mapping[str, Approved] | None = None) -> str:
    """hazards.toml with the approved names (by hazard code), default actions (by code and level) and protective
    actions (by their own code) written in."""
    blocks = re.split(r"(?m)^(?=\[\[hazard\]\]\s*$)", text)
    out = []
    for block in blocks:
        found = _CODE.search(block)
        code = found.group(1) if found else None
        if code is not None:
            if code in names:
                block = _name(block, names[code])
            for (action_code, level), approved in actions.items():
                if action_code == code:
                    block = _action(block, f"hazard.actions.{level}", approved)
        for action_code, approved in (protective or {}).items():
            block = _action(block, f"protective_actions.{action_code}", approved)
        out.append(block)
    return "".join(out)


def _name(block: str, approved: Approved) -> str:
    lines = block.split("\n")
    table = None
    has_source = any(line.startswith("bo_source") for line in lines)
    result = []
    for line in lines:
        if header := _TABLE.match(line):
            table = header.group(1)
        if table is None and line.startswith("bo_status"):
            result.append('bo_status = "sourced"')
            if not has_source:
                result.append(f"bo_source = {_string(approved.source)}")
            continue
        if table is None and line.startswith("bo_source"):
            result.append(f"bo_source = {_string(approved.source)}")
            continue
        if table == "hazard.names" and re.match(r"bo\s*=", line):
            result.append(f"bo = {_string(approved.bo)}")
            continue
        result.append(line)
    return "\n".join(result)


def _action(block: str, name: str, approved: Approved) -> str:
    """`bo` and `bo_source` after the `en` line of the table [name], wherever it is in the block."""
    lines = block.split("\n")
    table = None
    result = []
    for line in lines:
        if header := _TABLE.match(line):
            table = header.group(1)
        inside = table == name
        if inside and re.match(r"bo(_source)?\s*=", line):
            continue   # replaced below
        result.append(line)
        if inside and re.match(r"en\s*=", line):
            result += [f"bo = {_string(approved.bo)}", f"bo_source = {_string(approved.source)}"]
    return "\n".join(result)
