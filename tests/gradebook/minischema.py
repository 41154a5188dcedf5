"""A validator for the subset of JSON Schema that gradescope_results.schema.json uses:
type, enum, properties, required, additionalProperties, items, minimum and anyOf.
Any other keyword (except annotations) is refused, so the schema cannot silently use
something this validator ignores."""

from __future__ import annotations

from typing import Any

_ANNOTATIONS = {"$schema", "$comment", "title", "description"}
_KEYWORDS = {"type", "enum", "properties", "required", "additionalProperties", "items", "minimum", "anyOf"}
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def errors(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Every violation of `schema` by `value`, as "path: message" strings."""
    unknown = set(schema) - _KEYWORDS - _ANNOTATIONS
    if unknown:
        raise ValueError(f"{where}: unsupported schema keywords {sorted(unknown)}")
    found: list[str] = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [f"{where}: expected {' or '.join(types)}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and _TYPES["number"](value) and value < schema["minimum"]:
        found.append(f"{where}: {value} is below {schema['minimum']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{where}: missing required {name!r}")
        for name, item in value.items():
            if name in properties:
                found.extend(errors(item, properties[name], f"{where}.{name}"))
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: unexpected property {name!r}")
            elif isinstance(schema.get("additionalProperties"), dict):
                found.extend(errors(item, schema["additionalProperties"], f"{where}.{name}"))
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found.extend(errors(item, schema["items"], f"{where}[{i}]"))
    if "anyOf" in schema and not any(not errors(value, option, where) for option in schema["anyOf"]):
        found.append(f"{where}: matches none of the anyOf alternatives")
    return found
