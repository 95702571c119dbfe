"""Terraform files parsed with python-hcl2, flattened into what the static tests ask about.

python-hcl2 (8.x) keeps HCL's quotes in names and string literals and writes expressions
as ``${...}``; ``unq`` removes the quotes, ``refs`` finds the references in an expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import hcl2
except ImportError as e:  # pragma: no cover - a message, not a skip
    raise RuntimeError(
        "tests/infra needs python-hcl2: pip install 'python-hcl2>=7' (test extra)"
    ) from e

REF = re.compile(
    r"(?<![\w.])(var|local|statement|data\.[a-z0-9_]+|module|(?:aws|random)_[a-z0-9_]+)\.([A-Za-z0-9_]+)"
)


def unq(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def strings(node: Any) -> list[str]:
    """Every string inside a parsed value (expressions included)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (strings(k) + strings(v))]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return []


def refs(node: Any) -> set[tuple[str, str]]:
    """(kind, name) references: ('var', 'x'), ('local', 'y'), ('aws_s3_bucket', 'shuffle')."""
    return {m.groups() for s in strings(node) for m in REF.finditer(s)}


@dataclass
class Module:
    path: Path
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)

    def declares(self, kind: str, name: str) -> bool:
        if kind == "var":
            return name in self.variables
        if kind == "local":
            return name in self.locals
        if kind == "module":
            return name in self.modules
        if kind.startswith("data."):
            return (kind[5:], name) in self.data
        return (kind, name) in self.resources


def load(path: Path) -> Module:
    mod = Module(path)
    for tf in sorted(path.glob("*.tf")):
        with tf.open() as f:
            doc = hcl2.load(f)
        for block in doc.get("variable", []):
            mod.variables.update({unq(k): v for k, v in block.items()})
        for block in doc.get("locals", []):
            mod.locals.update({k: v for k, v in block.items() if not k.startswith("__")})
        for block in doc.get("output", []):
            mod.outputs.update({unq(k): v for k, v in block.items()})
        for block in doc.get("module", []):
            mod.modules.update({unq(k): v for k, v in block.items()})
        for kind, target in (("resource", mod.resources), ("data", mod.data)):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        target[(unq(rtype), unq(name))] = body
    return mod


def statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    """Static and dynamic ``statement`` blocks of an aws_iam_policy_document."""
    found = list(policy_document.get("statement", []))
    for dyn in policy_document.get("dynamic", []):
        for name, body in dyn.items():
            if unq(name) == "statement":
                found += body.get("content", [])
    return found
