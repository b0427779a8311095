"""Reading what a reader's browser (or a script) posts: small bodies only, parsed once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

#: A sign-up or preferences form is well under 4 KiB; refuse anything much larger.
MAX_FORM = 16384
#: Our forms have a dozen fields or so (every section a checkbox); more is not a browser.
MAX_FIELDS = 200


@dataclass(frozen=True)
class Posted:
    """A posted form or JSON object: single values, and lists for repeated names."""

    values: dict[str, list[str]] = field(default_factory=dict)
    #: Why the body could not be read ("" when it could).
    problem: str = ""
    #: The field the problem is in, when it is in one.
    field: str = ""

    def get(self, name: str) -> str:
        found = self.values.get(name)
        return found[-1] if found else ""

    def all(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def items(self, name: str) -> list[str]:
        """Every value of a repeated field, each also split at commas (checkboxes send
        `sections=a&sections=b`, scripts often `sections=a,b`), blanks dropped."""
        return [
            part.strip() for value in self.all(name) for part in value.split(",") if part.strip()
        ]


async def read_body(request: Request, limit: int = MAX_FORM) -> bytes | None:
    """The request body, or None when it is larger than `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return body


async def read_form(request: Request) -> Posted:
    """An `application/x-www-form-urlencoded` body (what an HTML form sends by default)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", ""):
        return Posted(problem="unsupported content type")
    body = await read_body(request)
    if body is None:
        return Posted(problem="too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Posted(problem="not UTF-8")
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="surrogateescape"
        )
    except ValueError:  # parse_qsl's answer to more than max_num_fields
        return Posted(problem=f"more than {MAX_FIELDS} fields")
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        # A percent-escape that is not UTF-8 (`x%ff@example.com`) comes back as a lone
        # surrogate. The URL standard would decode it to U+FFFD, but an address holding
        # U+FFFD is not the one the reader typed: refuse it, naming the field.
        if not _is_unicode(name):
            return Posted(problem="a field name is not UTF-8")
        if not _is_unicode(value):
            return Posted(problem=f"{name}: not UTF-8", field=name)
        values.setdefault(name, []).append(value)
    return Posted(values)


def _is_unicode(text: str) -> bool:
    """False for text with lone surrogates: bytes that were not UTF-8, or JSON's "\\udcff"."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def read_json(request: Request) -> Posted:
    """A JSON object body; strings and lists of strings are kept, other values refused."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        return Posted(problem="the body must be application/json")
    body = await read_body(request)
    if body is None:
        return Posted(problem="the body is too large")
    try:
        document: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Posted(problem="the body is not valid JSON")
    except RecursionError:  # arrays nested thousands deep, in a few KB
        return Posted(problem="the body is nested too deeply")
    if not isinstance(document, dict):
        return Posted(problem="the body must be a JSON object")
    values: dict[str, list[str]] = {}
    for name, value in document.items():
        if not _is_unicode(name):
            return Posted(problem="a field name is not valid Unicode")
        if isinstance(value, str):
            values[name] = [value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            values[name] = value
        elif value is not None:
            return Posted(problem=f"{name}: expected a string or a list of strings", field=name)
        if not all(_is_unicode(v) for v in values.get(name, [])):
            return Posted(problem=f"{name}: not valid Unicode", field=name)
    return Posted(values)


def client_address(request: Request) -> str:
    """The client's IP (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else "unknown"
