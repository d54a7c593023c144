"""Random gateway answers to a submitted job (PROTOCOL §1), and what the
reference SDK (ezthrottle 1.1.0's `submit_job`, unchanged in 1.3.0) makes of
each: the result, or the kind of error this project reports for it. A format
of this project's own (gateway.json): each vector holds

- `job`: the wire-format job submitted (fixed);
- `answer`: the gateway's `status`, `headers` and `body` text;
- `result`: the answer object the call returns, or `error`: `{kind,
  status?, body?, message?, retry_at?, retry_after_ms?}`, where `kind` is the
  core's error code (`rate_limited`, `authentication`, `denied`,
  `job_rejected`, `gateway`, `protocol`). `retry_after_ms` means "that long
  after the call", from a `Retry-After` header; the runners allow for their
  clock. Fields a runner cannot see in its binding it leaves unchecked.

The reference raises one `EZThrottleError` for every refusal; its message
says which, and maps to a kind as PROTOCOL §1's table does. Where that table
marks a reading as this project's own, the kind is ours:

- a 401 or 403 is an authentication error (the reference's "proxy request
  failed");
- an answer the reference crashes on (not JSON, a missing or non-numeric
  `status_code`, a forwarded body that is not a JSON string) is a protocol
  error;
- a result that is not an object with a string `job_id` is a protocol error:
  the call returns a typed answer (the reference returns `{}` for a
  forwarded answer with no body).

Answers both SDKs read differently, outside the table, are not generated: a
429 whose body is not a JSON object or whose `retry_at` is not a whole
number, a `Retry-After` that is not one, a `status_code` that is a float or
a boolean or outside 0..65535. Messages are compared only where both SDKs
take them from the same string field. Strings hold no NUL (cJSON).
"""
import json
from unittest import mock

import requests
from requests.structures import CaseInsensitiveDict

import ezthrottle
import ezthrottle.client

JOB = {"url": "https://api.example.com/v1/charge", "method": "POST", "body": "{\"amount\":1000}"}
NOW_MS = 1_800_000_000_000
TEXTS = ["", "nope", "<html>bad gateway</html>", "{", "ünïcødé 🎉", "quote \" and \\"]
NON_OBJECTS = ["[]", "5", "\"allowed\"", "null", "true", "[{\"status\":\"allowed\"}]"]
# No 204: fetch, under the JS runner, makes no 204 response with a body.
OTHER_STATUSES = [201, 202, 301, 400, 404, 418, 500, 502, 503, 599]
FORWARDED_CODES = [0, 99, 200, 201, 202, 204, 299, 300, 400, 404, 409, 429, 500, 503, 700, 65535]
ERROR_TEXTS = ["plan limit reached", "", "ünï 🎉", "quote \" \\"]
PREFIXES = {
    "Rate limited: ": "rate_limited",
    "Request denied: ": "denied",
    "EZThrottle job creation failed: ": "job_rejected",
    "Proxy request failed: ": "gateway",
}


def chance(rng, p=0.5):
    return rng.random() < p


def maybe(rng, fields, p=0.5):
    """Each of `fields` (name: draw), present or not."""
    return {name: draw() for name, draw in fields.items() if chance(rng, p)}


def job_answer(rng):
    """The service's answer to a job, sometimes with extra fields."""
    answer = {"job_id": rng.choice(["job_1", "job_ünï", ""]), "status": rng.choice(["queued", "duplicate"])}
    answer.update(maybe(rng, {"extra": lambda: {"nested": [1, 2.5, None]}}, 0.3))
    return answer


# One thing wrong (or just different) with an answer that forwards the job:
# each takes the gateway's JSON, its forwarded_response and the job answer.
FAULTS = [
    lambda rng, gateway, forwarded, job: gateway.update(status=rng.choice(["denied", "blocked", "", 5, None, True])),
    lambda rng, gateway, forwarded, job: gateway.pop("status"),
    lambda rng, gateway, forwarded, job: gateway.update(error=rng.choice(ERROR_TEXTS + [42, None])),
    lambda rng, gateway, forwarded, job: gateway.update(forwarded_response=rng.choice([None, [], "x"])),
    lambda rng, gateway, forwarded, job: gateway.pop("forwarded_response"),
    lambda rng, gateway, forwarded, job: forwarded.update(status_code=rng.choice(FORWARDED_CODES + ["201", None])),
    lambda rng, gateway, forwarded, job: forwarded.update(status_code=rng.choice(FORWARDED_CODES)),
    lambda rng, gateway, forwarded, job: forwarded.pop("status_code"),
    lambda rng, gateway, forwarded, job: forwarded.update(body=rng.choice(TEXTS + [None, dict(job), [job]])),
    lambda rng, gateway, forwarded, job: forwarded.pop("body"),
    lambda rng, gateway, forwarded, job: job.pop("job_id"),
    lambda rng, gateway, forwarded, job: job.update(job_id=rng.choice([7, None, ["job_1"]])),
]


UNSET = object()


def allowed_body(rng):
    """A 200's body: the gateway's JSON forwarding the job, with up to two
    faults, or text that is not the gateway's JSON at all."""
    if chance(rng, 0.1):
        return rng.choice(TEXTS + NON_OBJECTS)
    job = job_answer(rng)
    forwarded = {"status_code": rng.choice([200, 201, 202]), "body": UNSET}
    gateway = {"status": "allowed", "forwarded_response": forwarded}
    for fault in rng.sample(FAULTS, rng.choice([0, 0, 1, 1, 1, 2])):
        fault(rng, gateway, forwarded, job)
    if forwarded.get("body") is UNSET:
        forwarded["body"] = json.dumps(job, ensure_ascii=False)
    return json.dumps(gateway, ensure_ascii=False)


def gateway_answer(rng):
    status = rng.choice([200] * 12 + [429, 429, 429, 401, 403, "other", "other", "other"])
    if status == "other":
        status = rng.choice(OTHER_STATUSES)
    headers = {}
    if status == 429:
        body = json.dumps(maybe(rng, {
            "error": lambda: rng.choice(ERROR_TEXTS),
            "retry_at": lambda: rng.choice([0, 1, 1_893_456_000_000]),
            "limit": lambda: "requests_per_minute",
        }), ensure_ascii=False)
        if chance(rng, 0.6):
            name = rng.choice(["Retry-After", "retry-after", "RETRY-AFTER"])
            headers[name] = rng.choice(["0", "7", "3600", "", " 12"])
    elif status == 200:
        body = allowed_body(rng)
    else:
        body = rng.choice(TEXTS + ['{"error":"bad key"}'])
    if chance(rng, 0.2):
        headers["X-Request-Id"] = "r1"
    return {"status": status, "headers": headers, "body": body}


def reference_outcome(client, answer):
    """What the reference's submit_job does with `answer`: ("result", value)
    or ("raised", exception)."""
    response = mock.Mock(status_code=answer["status"], text=answer["body"],
                         headers=CaseInsensitiveDict(answer["headers"]))
    response.json.side_effect = lambda: json.loads(answer["body"])
    with mock.patch.object(requests, "post", return_value=response), \
            mock.patch.object(ezthrottle.client.time, "time", return_value=NOW_MS / 1000):
        try:
            return "result", client.submit_job(**JOB)
        except Exception as e:  # noqa: BLE001 - a crash of the reference is an outcome here
            return "raised", e


def expected_error(answer, error):
    """The error this project reports where the reference raised `error`."""
    if not isinstance(error, ezthrottle.EZThrottleError):
        return {"kind": "protocol"}
    text = str(error)
    kind = next(kind for prefix, kind in PREFIXES.items() if text.startswith(prefix))
    status, parsed = answer["status"], json_or_none(answer["body"])
    if kind == "gateway" and status in (401, 403):
        return {"kind": "authentication"}
    if kind == "gateway":
        return {"kind": "gateway", "status": status, "body": answer["body"]}
    if kind == "rate_limited":
        return {"kind": kind, **retry(answer, error.retry_at)}
    if kind == "denied":
        reason = parsed.get("error")
        return {"kind": kind, **({"message": reason} if isinstance(reason, str) else {})}
    rejected = parsed["forwarded_response"]
    body = rejected.get("body")
    return {"kind": kind, "status": rejected["status_code"], **({"body": body} if isinstance(body, str) else {})}


def retry(answer, retry_at):
    header = next((v for k, v in answer["headers"].items() if k.lower() == "retry-after"), "")
    if header:
        assert retry_at == NOW_MS + int(header) * 1000
        return {"retry_after_ms": int(header) * 1000}
    return {"retry_at": retry_at}


def json_or_none(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def gateway_vector(rng, i, client):
    answer = gateway_answer(rng)
    outcome, value = reference_outcome(client, answer)
    vector = {"name": f"random_gateway_{i}", "job": JOB, "answer": answer}
    if outcome == "result" and isinstance(value, dict) and isinstance(value.get("job_id"), str):
        vector["result"] = value
    elif outcome == "result":
        vector["error"] = {"kind": "protocol"}
    else:
        vector["error"] = expected_error(answer, value)
    return vector
