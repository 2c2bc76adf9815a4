"""Schemathesis hooks for `.ci/api-fuzz`: the API's own contract, checked on
every response the fuzzer gets.

`error_is_json_shape`: a 4xx or 5xx answer is the one JSON error of the API,
`{"error": {"code": "...", "message": "...", "hint": "..."}}` (`hint`
optional), served as `application/json`, its `code` one of the codes the
document lists (`components.schemas.Error`, from `app::error::ERROR_CODES`).
The only exception is a status the operation documents with another body
(the verdict `unknown` of `GET /api/v1/receipts/{folio}/verify` is a 404
with a `Verification`): the schema conformance check covers those.

Loaded with SCHEMATHESIS_HOOKS=api_fuzz_hooks (PYTHONPATH=.ci). When
RECAUDA_API_FUZZ_FINDINGS names a file, every refused answer is appended to
it (one JSON line each) for the script's summary.
"""

import json
import os

import schemathesis

ERROR_REF = "#/components/schemas/Error"


def _documented_with_other_body(case, status):
    """The operation documents `status` with a body that is not the error shape."""
    responses = (case.operation.definition.raw or {}).get("responses", {})
    documented = responses.get(str(status))
    if not documented:
        return False
    for media in (documented.get("content") or {}).values():
        schema = media.get("schema") or {}
        if schema.get("$ref") and schema.get("$ref") != ERROR_REF:
            return True
    return False


def _codes(case):
    try:
        schema = case.operation.schema.raw_schema["components"]["schemas"]["Error"]
        return set(schema["properties"]["error"]["properties"]["code"]["enum"])
    except (KeyError, TypeError, AttributeError):
        return None


def _note(case, response, problem):
    path = os.environ.get("RECAUDA_API_FUZZ_FINDINGS")
    if not path:
        return
    request = response.request
    line = {
        "problem": problem,
        "status": response.status_code,
        "method": request.method,
        "url": request.url,
        "content_type": (response.headers.get("content-type") or [""])[0],
        "body": response.content[:300].decode("utf-8", "replace"),
    }
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")


@schemathesis.check
def error_is_json_shape(ctx, response, case):
    """Every 4xx/5xx answer is the API's JSON error shape with a listed code."""
    status = response.status_code
    if status < 400:
        return None
    if response.request.method == "HEAD":
        return None  # no body to look at
    if _documented_with_other_body(case, status):
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    problem = None
    body = None
    if not content_type.split(";")[0].strip().lower() == "application/json":
        problem = f"{status} answered as {content_type or 'no content type'}, not application/json"
    else:
        try:
            body = json.loads(response.content)
        except ValueError:
            problem = f"{status} with a body that is not JSON"
    if problem is None:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or set(body) != {"error"}:
            problem = f'{status} body is not {{"error": {{...}}}}'
        elif not isinstance(error.get("code"), str) or not error["code"]:
            problem = f"{status} error without a code"
        elif not isinstance(error.get("message"), str) or not error["message"]:
            problem = f"{status} error without a message"
        elif "hint" in error and not isinstance(error["hint"], str):
            problem = f"{status} error whose hint is not a string"
        elif set(error) - {"code", "message", "hint"}:
            problem = f"{status} error with unknown fields {sorted(set(error) - {'code', 'message', 'hint'})}"
        else:
            codes = _codes(case)
            if codes is not None and error["code"] not in codes:
                problem = f"{status} error code {error['code']!r} is not in the document's list"
    if problem is not None:
        _note(case, response, problem)
        snippet = response.content[:200].decode("utf-8", "replace")
        raise AssertionError(f"Not the API's JSON error shape: {problem}. Body: {snippet!r}")
    return None
