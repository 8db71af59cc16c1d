#!/usr/bin/env python3
"""Validate recorded API responses against the Mastodon OpenAPI description.

    openapi_check.py OPENAPI.json RECORD_DIR [--no-formats] [--max-errors N]

RECORD_DIR holds *.jsonl files (searched recursively), one exchange per line:

    {"method": "GET", "path": "/api/v1/statuses/123", "status": 200, "body": <json>}

Optional keys: "content_type" (an exchange whose content type is not JSON is skipped) and
anything else (ignored). A missing or null "body" means "no JSON body" and is skipped.

Every 2xx exchange with a JSON body is validated against the response schema that the matching
operation documents for that status (falling back to "2XX" and "default"); a 2xx status the
operation does not document is a failure. 4xx exchanges are validated when the operation
documents a JSON schema for that status (Error, ValidationError). Paths that match no operation
are listed as "not in OpenAPI" and are not failures.

Exit status: 0 if everything validated, 1 on any failure or when nothing was checked.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

try:
    import jsonschema
    import referencing
    import referencing.jsonschema
    from jsonschema.exceptions import best_match
except ImportError as e:  # pragma: no cover
    sys.exit(f"openapi_check: {e}; install jsonschema and referencing (see tests/client/requirements.txt)")

DOC_URI = "urn:ferrodon:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BODY_PREVIEW = 300
MESSAGE_LIMIT = 400


# ---- formats ------------------------------------------------------------------------------
# jsonschema only asserts "format" with an explicit checker, and its date-time/uri checkers need
# extra packages. These three are the formats the Mastodon entities rely on (ISO 8601 timestamps,
# absolute URLs); the others (email, iso-639-1, ...) are annotations only.
FORMAT_CHECKER = jsonschema.FormatChecker(formats=())

_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    m = _DATE_TIME.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(x) for x in m.groups()[:6])
    datetime.datetime(year, month, day, hour, minute, min(second, 59))  # range check
    return True


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    datetime.date.fromisoformat(value)
    return True


@FORMAT_CHECKER.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


# ---- the OpenAPI document ------------------------------------------------------------------
def pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def resolve_local(doc: dict, obj: dict) -> dict:
    """Follow a local "$ref" of a response object (components/responses)."""
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj and seen < 10:
        ref = obj["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref}")
        node = doc
        for tok in ref[2:].split("/"):
            node = node[tok.replace("~1", "/").replace("~0", "~")]
        obj = node
        seen += 1
    return obj


class Template:
    def __init__(self, path: str):
        self.path = path
        self.segments = [s for s in path.strip("/").split("/") if s != ""]
        self.literal = [not (s.startswith("{") and s.endswith("}")) for s in self.segments]
        self.specificity = tuple(1 if lit else 0 for lit in self.literal)

    def matches(self, segments: list[str]) -> bool:
        if len(segments) != len(self.segments):
            return False
        for seg, tpl, lit in zip(segments, self.segments, self.literal):
            if lit and seg != tpl:
                return False
            if not lit and seg == "":
                return False
        return True


class Spec:
    def __init__(self, path: Path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        resource = referencing.Resource.from_contents(
            self.doc, default_specification=referencing.jsonschema.DRAFT202012
        )
        self.registry = referencing.Registry().with_resource(DOC_URI, resource)
        self.templates = [Template(p) for p in self.doc.get("paths", {})]
        # Most specific first: literal segments beat parameters, left to right.
        self.templates.sort(key=lambda t: t.specificity, reverse=True)
        self._validators: dict[str, jsonschema.protocols.Validator] = {}
        self.operation_count = sum(
            1 for item in self.doc.get("paths", {}).values() for m in item if m in HTTP_METHODS
        )

    def find_template(self, concrete_path: str) -> Template | None:
        segments = [s for s in concrete_path.strip("/").split("/")]
        if segments == [""]:
            segments = []
        for tpl in self.templates:
            if tpl.matches(segments):
                return tpl
        return None

    def response_for(self, template: Template, method: str, status: int):
        """Returns (response_key, response object) or (None, None)."""
        op = self.doc["paths"][template.path].get(method)
        responses = op.get("responses", {}) if op else {}
        candidates = [str(status), f"{status // 100}XX", f"{status // 100}xx", "default"]
        for key in candidates:
            if key in responses:
                return key, resolve_local(self.doc, responses[key])
        return None, None

    def json_schema_pointer(self, template: Template, method: str, response_key: str, response: dict):
        content = response.get("content") or {}
        for media_type in content:
            if media_type == "application/json" or media_type.endswith("+json"):
                if "schema" not in content[media_type]:
                    return None
                if "$ref" in (self.doc["paths"][template.path][method]["responses"].get(response_key) or {}):
                    # The response object itself is a $ref: point at the resolved schema instead.
                    ref = self.doc["paths"][template.path][method]["responses"][response_key]["$ref"]
                    return f"{ref}/content/{pointer_escape(media_type)}/schema"
                return "#/" + "/".join(
                    pointer_escape(t)
                    for t in ("paths", template.path, method, "responses", response_key,
                              "content", media_type, "schema")
                )
        return None

    def validator(self, pointer: str, check_formats: bool):
        key = f"{pointer}|{check_formats}"
        if key not in self._validators:
            schema = {"$ref": DOC_URI + pointer}
            self._validators[key] = jsonschema.Draft202012Validator(
                schema,
                registry=self.registry,
                format_checker=FORMAT_CHECKER if check_formats else None,
            )
        return self._validators[key]


# ---- recorded exchanges --------------------------------------------------------------------
def read_exchanges(record_dir: Path):
    """Yields (source, exchange-or-None, error-or-None)."""
    files = sorted(record_dir.rglob("*.jsonl")) if record_dir.is_dir() else []
    for file in files:
        with open(file, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                source = f"{file}:{lineno}"
                try:
                    ex = json.loads(line)
                except json.JSONDecodeError as e:
                    yield source, None, f"not JSON: {e}"
                    continue
                if not isinstance(ex, dict) or not isinstance(ex.get("method"), str) \
                        or not isinstance(ex.get("path"), str) or not isinstance(ex.get("status"), int):
                    yield source, None, 'expected {"method": str, "path": str, "status": int, "body": ...}'
                    continue
                yield source, ex, None


def normalize_path(raw: str) -> str:
    parts = urlsplit(raw)
    path = parts.path if (parts.scheme or raw.startswith("/")) else raw.split("?", 1)[0]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path or "/"


def truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(error: jsonschema.ValidationError) -> str:
    if error.validator in ("oneOf", "anyOf") and error.context:
        n = len(error.validator_value) if isinstance(error.validator_value, list) else "?"
        msg = f"{error.json_path}: matches none of the {n} {error.validator} alternatives"
    else:
        msg = f"{error.json_path}: {truncate(error.message, MESSAGE_LIMIT)}"
    if error.context:
        # oneOf/anyOf: show why each alternative failed.
        branches = collections.defaultdict(list)
        for sub in error.context:
            branches[sub.relative_schema_path[0] if sub.relative_schema_path else "?"].append(sub)
        for branch, subs in sorted(branches.items(), key=lambda kv: str(kv[0])):
            sub = best_match(subs)
            msg += (f"\n        {error.validator}[{branch}]: {sub.json_path}: "
                    f"{truncate(sub.message, MESSAGE_LIMIT // 2)}")
    return msg


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("openapi", type=Path)
    ap.add_argument("record_dir", type=Path)
    ap.add_argument("--no-formats", action="store_true", help="do not assert date-time/date/uri formats")
    ap.add_argument("--max-errors", type=int, default=5, help="errors shown per exchange (default 5)")
    ap.add_argument("--max-per-operation", type=int, default=3,
                    help="failing exchanges shown in full per operation (default 3); the rest are counted")
    args = ap.parse_args(argv)

    spec = Spec(args.openapi)
    check_formats = not args.no_formats

    found = 0
    checked = collections.Counter()       # "GET /api/v1/..." -> exchanges validated
    failed_by_op = collections.Counter()
    not_in_openapi = collections.Counter()  # "GET /concrete/path" -> count
    skipped = collections.Counter()         # reason -> count
    failures: list[str] = []
    hidden_by_op = collections.Counter()    # failing exchanges not shown in full
    malformed = 0

    def add_failure(op_label: str | None, text: str):
        if op_label is not None and failed_by_op[op_label] > args.max_per_operation:
            hidden_by_op[op_label] += 1
        else:
            failures.append(text)

    for source, ex, err in read_exchanges(args.record_dir):
        found += 1
        if err:
            malformed += 1
            add_failure(None, f"{source}: malformed record: {err}")
            continue
        method = ex["method"].lower()
        status = ex["status"]
        raw_path = ex["path"]
        path = normalize_path(raw_path)
        label = f"{method.upper()} {raw_path} -> {status}"

        tpl = spec.find_template(path)
        op = spec.doc["paths"][tpl.path].get(method) if tpl else None
        if tpl is None or op is None:
            not_in_openapi[f"{method.upper()} {path}"] += 1
            continue
        op_label = f"{method.upper()} {tpl.path}"

        content_type = ex.get("content_type")
        if "body" not in ex or ex["body"] is None:
            skipped["no JSON body"] += 1
            continue
        if isinstance(content_type, str) and "json" not in content_type.lower():
            skipped["not JSON"] += 1
            continue
        if not (200 <= status < 300 or 400 <= status < 500):
            skipped[f"status {status // 100}xx"] += 1
            continue

        response_key, response = spec.response_for(tpl, method, status)
        if response is None:
            if 200 <= status < 300:
                documented = ", ".join(sorted(k for k in op.get("responses", {}) if k.startswith("2"))) or "none"
                checked[op_label] += 1
                failed_by_op[op_label] += 1
                add_failure(op_label,
                            f"{label}\n    operation {op_label}: status {status} is not documented "
                            f"(2xx documented: {documented})\n    at {source}")
            else:
                skipped["4xx not documented"] += 1
            continue
        pointer = spec.json_schema_pointer(tpl, method, response_key, response)
        if pointer is None:
            skipped["no JSON schema for status"] += 1
            continue

        errors = sorted(
            spec.validator(pointer, check_formats).iter_errors(ex["body"]),
            key=lambda e: (str(list(e.absolute_path)), e.message),
        )
        checked[op_label] += 1
        if errors:
            failed_by_op[op_label] += 1
            lines = [f"{label}", f"    operation {op_label}, response {response_key}, at {source}"]
            for e in errors[: args.max_errors]:
                lines.append("    - " + describe(e))
            if len(errors) > args.max_errors:
                lines.append(f"    ... and {len(errors) - args.max_errors} more errors")
            lines.append("    body: " + truncate(json.dumps(ex["body"], ensure_ascii=False), BODY_PREVIEW))
            add_failure(op_label, "\n".join(lines))

    total_checked = sum(checked.values())
    total_failed = sum(failed_by_op.values()) + malformed
    print(f"openapi check: {args.record_dir} against {args.openapi}"
          f" ({'with' if check_formats else 'without'} format checks)")
    if failures:
        print(f"\nFAILURES ({total_failed}):")
        for f in failures:
            print("  " + f.replace("\n", "\n  "))
        for op_label in sorted(hidden_by_op):
            print(f"  ... and {hidden_by_op[op_label]} more failing exchanges of {op_label} (not shown)")
    if checked:
        print("\nexchanges checked per operation (failed/checked):")
        width = max(len(k) for k in checked)
        for op_label in sorted(checked):
            print(f"  {op_label:<{width}}  {failed_by_op[op_label]}/{checked[op_label]}")
    if not_in_openapi:
        print(f"\nnot in OpenAPI ({sum(not_in_openapi.values())} exchanges, not failures):")
        for key in sorted(not_in_openapi):
            print(f"  {key}  x{not_in_openapi[key]}")
    if skipped:
        print("\nskipped: " + ", ".join(f"{reason} x{n}" for reason, n in sorted(skipped.items())))

    print(f"\nexchanges found: {found}; validated: {total_checked}; "
          f"operations hit: {len(checked)} of {spec.operation_count}; failures: {total_failed}")
    if found == 0:
        print(f"openapi check: FAILED: no recorded exchanges (*.jsonl) under {args.record_dir}")
        return 1
    if total_checked == 0:
        print("openapi check: FAILED: no exchange had a JSON body to validate")
        return 1
    if failures:
        print("openapi check: FAILED")
        return 1
    print("openapi check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
