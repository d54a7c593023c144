"""Random vectors from the reference SDK (from PyPI, unchanged), in the
format of conformance/:
- payloads.json: steps built by ezthrottle 1.1.0 into the job payload and
  the proxy request a PERFORMANCE execute sends;
- frugal.json: FRUGAL steps (with fallbacks and on_success steps) executed
  by 1.1.0 against a scripted network: the local calls made, the jobs
  submitted and the result;
- signatures.json: random signature headers checked by 1.3.0's verifier
  (random_signatures.py);
- forward.json: requests handed over by existing code (`ForwardToEZThrottle`
  under 1.1.0's `auto_forward`) or the legacy `queue_request`, and the proxy
  request 1.1.0 POSTs for each. A format of this project's own (the shared
  vectors have no such file): each vector holds `forward` (url, method,
  headers, body, idempotent_key, metadata, webhooks, regions) or
  `queue_request` (url, webhook_url, method, headers, body, metadata,
  retry_at), the optional fields at random, and `proxy_request` as in
  payloads.json (`"<uuid4>"` for a generated key);
- gateway.json, this project's own: gateway answers to a submitted job and
  what 1.1.0 makes of each (random_gateway.py);
- invalid.json, this project's own: random steps with one refused value at a
  random depth, and the field the refusal must name.
Every conformance runner replays them through its own binding
(EZTHROTTLE_VECTORS names the folder), so the fixed vectors' promise, "the
same jobs and decisions as the reference, in every language", is also checked
on combinations nobody wrote down.

    python random_vectors.py SEED COUNT OUT_DIR WEBHOOK_UTILS_PY    (COUNT of each file)

Only input both SDKs accept is generated. This project refuses some input
the reference takes (an empty idempotency key, a zero timeout, a region
listed twice, a body on a FRUGAL GET or HEAD step, which runs locally first
and cannot carry one): invalid.json and the core's tests check those
refusals, and the generator makes none of them. Where this project builds a
different job on purpose, the fixed vector says so (`differs_from_reference`)
and the generator leaves the case out: a fallback with both triggers, or with
a fallback of its own; an on_timeout trigger in a FRUGAL run; a FRUGAL
fallback that forwards itself.
"""
import contextlib
import json
import os
import random
import sys
import uuid
from pathlib import Path
from unittest import mock

import ezthrottle
import requests
from ezthrottle import IdempotentStrategy

import random_gateway
import random_signatures
from reference_calls import build as reference_step

API_KEY = "ck_test_cust_abc_123"
PROXY_BASE = "http://proxy.invalid"
EZT_BASE = "http://ezt.invalid"
MAX_DEPTH = 3
# The reference client: its configuration is all it holds.
CLIENT = ezthrottle.EZThrottle(api_key=API_KEY, tracktags_url=PROXY_BASE, ezthrottle_url=EZT_BASE)

URLS = [
    "https://api.example.com/v1/charge",
    "http://127.0.0.1:8080/upstream?x=1&y=%20",
    "https://user@api.example.com:8443/a/b#frag",
    "https://[::1]:9000/ipv6",
    "HTTPS://Mixed.Example.COM/Path",
    "https://例え.example/パス?q=ü",
]
METHODS = ["GET", "post", "Put", "PATCH", "delete", "HEAD", "OPTIONS", "PURGE"]
HEADER_NAMES = ["Content-Type", "X-Request-Id", "accept", "X-Trace", "Idempotency-Key", "x-b"]
HEADER_VALUES = ["application/json", "t1", "", "a b\tc", "\"quoted\"", "~!@#$%^&*()"]
# No NUL: the C runner reads the vectors with cJSON, whose strings end at one.
BODIES = ["", "{\"amount\":1000}", "plain text", "quote \" backslash \\ newline \n", "ünïcødé 🎉", "\u0001\u001f"]
REGIONS = ["iad", "lax", "ord", "fra", "sin-1", "a"]
CODES = [100, 200, 404, 429, 500, 502, 503, 504, 599]


def chance(rng, p=0.5):
    return rng.random() < p


def some(rng, items, low=0, high=3):
    return rng.sample(items, rng.randint(low, min(high, len(items))))


def json_value(rng, depth=0):
    kinds = ["str", "int", "float", "bool", "null"] + (["list", "obj"] if depth < 2 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return rng.choice(["", "v", "ünï", "quote\"", "line\nbreak", "🎉"])
    if kind == "int":
        return rng.choice([0, -1, 7, 2**53, -(2**53)])
    if kind == "float":
        return rng.choice([0.5, -2.25, 1e-7, 1.5e300, 0.1])
    if kind == "bool":
        return chance(rng)
    if kind == "null":
        return None
    if kind == "list":
        return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {f"k{i}": json_value(rng, depth + 1) for i in range(rng.randint(0, 3))}


def webhook(rng):
    hook = {"url": rng.choice(URLS)}
    if chance(rng, 0.3):
        hook["regions"] = some(rng, REGIONS)
    if chance(rng, 0.4):
        hook["has_quorum_vote"] = chance(rng)
    return hook


def retry_policy(rng):
    policy = {}
    for key in ("max_retries", "max_reroutes"):
        if chance(rng):
            policy[key] = rng.randint(0, 5)
    for key in ("retry_codes", "reroute_codes"):
        if chance(rng):
            policy[key] = some(rng, CODES)
    return policy


def headers(rng):
    return {name: rng.choice(HEADER_VALUES) for name in some(rng, HEADER_NAMES)}


def metadata(rng):
    return {f"m{i}": json_value(rng) for i in range(rng.randint(0, 3))}


RETRY_ATS = [0, 1, 1_893_456_000_000, 2**53 - 1]
IDEMPOTENT_KEYS = ["k", "order-42", "ünï-🎉", "x" * 200]


def calls(rng, depth=0, in_fallback=False):
    """A random list of builder calls for one step (and the steps linked to it)."""
    out = [["url", rng.choice(URLS)]]
    options = [
        lambda: ["method", rng.choice(METHODS)],
        lambda: ["headers", headers(rng)],
        lambda: ["body", rng.choice(BODIES)],
        lambda: ["metadata", metadata(rng)],
        lambda: ["type", rng.choice(["performance", "frugal"])],
        lambda: ["regions", some(rng, REGIONS)],
        lambda: ["region_policy", rng.choice(["fallback", "strict"])],
        lambda: ["execution_mode", rng.choice(["race", "fanout"])],
        lambda: ["retry_policy", retry_policy(rng)],
        lambda: ["retry_at", rng.choice(RETRY_ATS)],
        lambda: ["idempotent_key", rng.choice(IDEMPOTENT_KEYS)],
        lambda: ["idempotent_strategy", rng.choice(["hash", "unique"])],
        lambda: ["fallback_on_error", some(rng, CODES)],
        lambda: ["local_timeout", rng.randint(1, 60)],
    ]
    for make in rng.sample(options, rng.randint(0, len(options))):
        out.append(make())
    if chance(rng, 0.4):
        hooks = [webhook(rng) for _ in range(rng.randint(0, 3))]
        out.append(["webhooks", hooks])
        voters = sum(1 for h in hooks if h.get("has_quorum_vote", True))
        if chance(rng, 0.5):
            # 1 is the default; above it only a quorum the votes can meet.
            out.append(["webhook_quorum", rng.randint(1, max(1, voters))])
    if depth < MAX_DEPTH:
        if not in_fallback:
            for _ in range(rng.choice([0, 0, 1, 2])):
                link = {"step": calls(rng, depth + 1, in_fallback=True)}
                trigger = rng.choice(["always", "error", "timeout"])
                if trigger == "error":
                    link["trigger_on_error"] = some(rng, CODES, low=1)
                elif trigger == "timeout":
                    link["trigger_on_timeout"] = rng.choice([1, 250, 30_000])
                out.append(["fallback", link])
        if chance(rng, 0.25):
            out.append(["on_success", calls(rng, depth + 1)])
        if chance(rng, 0.25):
            link = {"step": calls(rng, depth + 1)}
            if chance(rng):
                link["timeout_ms"] = rng.choice([1, 5_000])
            out.append(["on_failure", link])
    settings = {name: arg for name, arg in out if name in ("type", "method")}
    if settings.get("type") == "frugal" and settings.get("method", "GET").upper() in ("GET", "HEAD"):
        # Refused here: a FRUGAL GET or HEAD runs locally, where it can carry no body.
        out = [call for call in out if call[0] != "body"]
    rng.shuffle(out)
    return out


def with_uuid_placeholders(job, step):
    """A generated key (UNIQUE strategy, no key given) as the vectors' "<uuid4>"."""
    if not step._idempotent_key and step._idempotent_strategy == IdempotentStrategy.UNIQUE:
        uuid.UUID(job["idempotent_key"], version=4)
        job["idempotent_key"] = "<uuid4>"
    for key, child in (("on_success", step._on_success_step), ("on_failure", step._on_failure_step)):
        if child is not None:
            with_uuid_placeholders(job[key], child)
    chain = job.get("fallback_job")
    for fallback, _ in step._fallback_steps:
        with_uuid_placeholders(chain, fallback)
        chain = chain.get("fallback_job")
    return job


def proxy_request(send):
    """What the reference client POSTs to the proxy when `send()` calls it,
    its envelope's body parsed."""
    with scripted_network() as network:
        send()
    sent = network["gateway"][0]
    sent["envelope"]["body"] = json.loads(sent["envelope"]["body"])
    return sent


def vector(rng, i):
    step_calls = calls(rng)
    for call in step_calls:
        if call[0] == "fallback_on_error" and 429 not in call[1]:
            # The runners see a FRUGAL step's job by answering its local
            # call 429: the step must forward on it.
            call[1] = call[1] + [429]
    step = reference_step(step_calls)
    payload = step._build_job_payload()
    job = json.loads(json.dumps(payload))
    request = proxy_request(lambda: CLIENT.submit_job(**job))
    with_uuid_placeholders(payload, step)
    with_uuid_placeholders(request["envelope"]["body"], step)
    return {"name": f"random_{i}", "calls": step_calls, "payload": payload, "proxy_request": request}


LOCAL_METHODS = ["GET", "post", "PUT", "patch", "DELETE", "HEAD", "OPTIONS"]
# No 204: the vectors' local answers carry a body ("body-of <url>"), which a
# 204 cannot (fetch, under the JS runner, refuses to make such a response).
LOCAL_ANSWERS = [200, 201, 202, 404, 429, 500, 502, 503, 504, "network_error"]


def frugal_calls(rng, answers, depth=0, in_fallback=False):
    """A FRUGAL step (a linked one sometimes PERFORMANCE) with a URL of its own
    and that URL's scripted answer, added to `answers`."""
    url = f"https://api.example.com/s{len(answers)}"
    performance = depth > 0 and chance(rng, 0.4)
    # A FRUGAL fallback that forwards itself is one of the documented
    # differences: such a fallback never forwards (no codes, no network error).
    answers[url] = rng.choice(LOCAL_ANSWERS[:-1] if in_fallback else LOCAL_ANSWERS)
    method = rng.choice(LOCAL_METHODS)
    out = [["url", url], ["type", "performance" if performance else "frugal"], ["method", method]]
    if method.upper() not in ("GET", "HEAD") and chance(rng):
        out.append(["body", rng.choice(BODIES[1:])])
    if chance(rng, 0.3):
        out.append(["headers", {"X-Step": url[-3:]}])
    if in_fallback:
        out.append(["fallback_on_error", []])
    elif chance(rng, 0.6):
        out.append(["fallback_on_error", some(rng, CODES[2:], low=0, high=4)])
    if depth < 2:
        if not in_fallback:
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                link = {"step": frugal_calls(rng, answers, depth + 1, in_fallback=True)}
                if chance(rng, 0.6):
                    link["trigger_on_error"] = some(rng, [429, 500, 502, 503, 504], low=1)
                out.append(["fallback", link])
        if chance(rng, 0.3):
            out.append(["on_success", frugal_calls(rng, answers, depth + 1)])
        if chance(rng, 0.2):
            out.append(["on_failure", {"step": [["url", "https://api.example.com/failed"]]}])
    return out


@contextlib.contextmanager
def scripted_network(answers=None):
    """`requests` as the conformance vectors script it, for the block's calls:
    local calls answer from `answers` (200 unlisted), the proxy accepts every
    job as job_1, job_2, …. Yields what was sent: the local calls, the jobs
    submitted and the gateway requests."""
    answers = answers or {}
    network = {"local": [], "submitted": [], "gateway": []}

    def call(method):
        def send(url, **request):
            if url == f"{PROXY_BASE}/api/v1/proxy":
                network["gateway"].append({"url": url, "headers": request["headers"], "envelope": request["json"]})
                network["submitted"].append(json.loads(request["json"]["body"]))
                body = json.dumps({"job_id": f"job_{len(network['submitted'])}", "status": "queued"})
                answer = mock.Mock(status_code=200)
                answer.json.return_value = {"status": "allowed", "forwarded_response": {"status_code": 201, "body": body}}
                return answer
            network["local"].append([method, url])
            status = answers.get(url, 200)
            if status == "network_error":
                raise requests.ConnectionError("connection refused")
            return mock.Mock(status_code=status, text=f"body-of {url}")
        return send

    with contextlib.ExitStack() as patched:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            patched.enter_context(mock.patch(f"requests.{method.lower()}", call(method)))
        yield network


def frugal_vector(rng, i):
    answers = {}
    step_calls = frugal_calls(rng, answers)
    with scripted_network(answers) as network:
        result = reference_step(step_calls).execute(CLIENT)
    return {"name": f"random_frugal_{i}", "calls": step_calls, "answers": answers,
            "local_http_calls": network["local"], "submitted_jobs": network["submitted"], "result": result}


def forward_vector(rng, i):
    """A request handed over by existing code (`ForwardToEZThrottle` under
    `auto_forward`), or the legacy `queue_request`, and what the reference
    POSTs to the proxy for it."""
    queue = chance(rng, 0.3)
    request = {"url": rng.choice(URLS)}
    optional = {
        "method": lambda: rng.choice(METHODS),
        "headers": lambda: headers(rng),
        "body": lambda: rng.choice(BODIES),
        "metadata": lambda: metadata(rng),
    }
    if queue:
        request["webhook_url"] = rng.choice(URLS)
        optional["retry_at"] = lambda: rng.choice(RETRY_ATS)
    else:
        optional["idempotent_key"] = lambda: rng.choice(IDEMPOTENT_KEYS)
        optional["webhooks"] = lambda: [webhook(rng) for _ in range(rng.randint(0, 3))]
        optional["regions"] = lambda: some(rng, REGIONS)
    for key in rng.sample(sorted(optional), rng.randint(0, len(optional))):
        request[key] = optional[key]()

    def legacy_code():
        raise ezthrottle.ForwardToEZThrottle(**request)

    if queue:
        sent = proxy_request(lambda: CLIENT.queue_request(**request))
    else:
        sent = proxy_request(ezthrottle.auto_forward(CLIENT)(legacy_code))
    job = sent["envelope"]["body"]
    if not queue and "idempotent_key" not in request:
        uuid.UUID(job["idempotent_key"], version=4)
        job["idempotent_key"] = "<uuid4>"
    return {"name": f"random_forward_{i}", "queue_request" if queue else "forward": request, "proxy_request": sent}


# One refused value each, and the field a refusal names (inside its step).
FAULTS = [
    (["url", "ftp://files.example/x"], "url"),
    (["method", "GE T"], "method"),
    (["headers", {"Bad Name": "v"}], 'headers["Bad Name"]'),
    (["headers", {"X-A": "v\r\nX-Injected: 1"}], 'headers["X-A"]'),
    (["regions", ["IAD"]], "regions[0]"),
    (["regions", ["iad", "lax", "iad"]], "regions[2]"),
    (["webhooks", [{"url": "https://w.example"}, {"url": "/relative"}]], "webhooks[1].url"),
    (["webhooks", [{"url": "https://w.example", "regions": ["x y"]}]], "webhooks[0].regions[0]"),
    (["retry_policy", {"max_retries": 1, "retry_codes": [429, 600]}], "retry_policy.retry_codes[1]"),
    (["fallback_on_error", [99]], "fallback_on_error[0]"),
    (["idempotent_key", ""], "idempotent_key"),
    (["local_timeout", 0], "local_timeout"),
    (["retry_at", -5], "retry_at"),
    (["region_policy", "maybe"], "region_policy"),
]


def steps_of(step_calls, prefix=""):
    """Every step in a call list, linked ones included: (its calls, its path prefix)."""
    yield step_calls, prefix
    fallbacks = 0
    for name, arg in step_calls:
        if name == "fallback":
            yield from steps_of(arg["step"], f"{prefix}fallback[{fallbacks}].")
            fallbacks += 1
        elif name == "on_success":
            yield from steps_of(arg, f"{prefix}on_success.")
        elif name == "on_failure":
            yield from steps_of(arg["step"], f"{prefix}on_failure.")


def invalid_vector(rng, i):
    """A random valid step with one refused value in one of its steps: every
    binding must refuse it, naming that field (`expect_path`)."""
    step_calls = calls(rng)
    target, prefix = rng.choice(list(steps_of(step_calls)))
    (name, arg), path = rng.choice(FAULTS)
    # The fault replaces the call it stands for; a webhook list goes with its quorum.
    dropped = {name, "webhook_quorum"} if name == "webhooks" else {name}
    target[:] = [call for call in target if call[0] not in dropped] + [[name, arg]]
    return {"name": f"random_invalid_{i}", "calls": step_calls, "expect_path": prefix + path,
            "why": f"{prefix + path} is refused"}


def main():
    seed, count, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    verifier = random_signatures.load_verifier(sys.argv[4])
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    makers = (
        ("payloads", vector),
        ("frugal", frugal_vector),
        ("invalid", invalid_vector),
        ("signatures", lambda rng, i: random_signatures.signature_vector(rng, i, verifier)),
        ("forward", forward_vector),
        ("gateway", lambda rng, i: random_gateway.gateway_vector(rng, i, CLIENT)),
    )
    for name, make in makers:
        vectors = [make(rng, i) for i in range(count)]
        # Written whole, then renamed: suites run side by side read it meanwhile.
        partial = out / f"{name}.json.{os.getpid()}"
        partial.write_text(json.dumps(vectors, ensure_ascii=False, indent=1))
        os.replace(partial, out / f"{name}.json")
    print(f"{count} random payload, FRUGAL, invalid, signature, forward and gateway vectors each (seed {seed}) in {out}")


if __name__ == "__main__":
    main()
