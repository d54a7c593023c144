"""The conformance vectors through the uniffi-generated Python module (a third
language proving the generated layer), with a Python HttpTransport.

    PYTHONPATH=<generated python dir> python3 conformance.py <repo root>
"""
import asyncio
import http.server
import json
import os
import re
import socket
import sys
import threading
import time
from pathlib import Path

import ezthrottle as ez

API_KEY = "ck_test_cust_abc_123"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class LinkedStepRefused(Exception):
    """A refusal raised while a linked step was built on its own, before it was
    linked: the library names the field within that step (`region_policy`),
    since the step cannot know where it will go. `path` is the field within
    the whole tree (`on_failure.region_policy`), as the vectors name it."""

    def __init__(self, prefix, refusal):
        super().__init__(str(refusal))
        self.path, self.refusal = prefix + refusal.path, refusal


def linked(calls, prefix):
    """A step linked at `prefix` (`fallback[1].`), built on its own."""
    try:
        return build(calls, prefix)
    except ez.EzThrottleError.Validation as e:
        raise LinkedStepRefused(prefix, e) from e


def build(calls, prefix=""):
    """A step from `[name, argument]` calls; `prefix` is where it is linked."""
    step = ez.Step()
    fallbacks = 0
    for name, arg in calls:
        if name == "fallback":
            on_error, on_timeout = arg.get("trigger_on_error"), arg.get("trigger_on_timeout")
            if on_error is not None and on_timeout is not None:
                step = step.apply_json(name, json.dumps(arg))
                fallbacks += 1
                continue
            trigger = (ez.FallbackTrigger.ON_ERROR(on_error) if on_error is not None
                       else ez.FallbackTrigger.ON_TIMEOUT(on_timeout) if on_timeout is not None
                       else ez.FallbackTrigger.ALWAYS())
            step = step.fallback(linked(arg["step"], f"{prefix}fallback[{fallbacks}]."), trigger)
            fallbacks += 1
        elif name == "on_success":
            step = step.on_success(linked(arg, f"{prefix}on_success."))
        elif name == "on_failure":
            step = step.on_failure(linked(arg["step"], f"{prefix}on_failure."), arg.get("timeout_ms"))
        elif name == "url" and isinstance(arg, str):
            step = step.url(arg)
        elif name == "type" and arg in ("frugal", "performance"):
            step = step.step_type(ez.StepType.FRUGAL if arg == "frugal" else ez.StepType.PERFORMANCE)
        else:
            step = step.apply_json(name, json.dumps(arg))
    return step


def compare(actual, expected, at, uuids):
    if expected == "<uuid4>":
        assert isinstance(actual, str) and UUID4.match(actual), f"{at}: {actual!r} is not a UUID v4"
        uuids.append(actual)
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), f"{at}: {actual!r} != {expected!r}"
        for key in expected:
            compare(actual[key], expected[key], f"{at}.{key}", uuids)
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{at}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            compare(a, e, f"{at}[{i}]", uuids)
    else:
        assert actual == expected, f"{at}: {actual!r} != {expected!r}"


class ScriptedNetwork(ez.HttpTransport):
    def __init__(self, answers=None, local_default=200):
        self.answers, self.local_default = answers or {}, local_default
        self.local, self.submitted, self.gateway = [], [], []

    async def send(self, request):
        if request.target == ez.RequestTarget.GATEWAY:
            self.gateway.append(request)
            self.submitted.append(json.loads(json.loads(request.body)["body"]))
            answer = json.dumps({"job_id": f"job_{len(self.submitted)}", "status": "queued"})
            body = json.dumps({"status": "allowed", "forwarded_response": {"status_code": 201, "body": answer}})
            return ez.HttpResponse(status=200, headers=[], body=body)
        self.local.append([request.method, request.url])
        status = self.answers.get(request.url, self.local_default)
        if status == "network_error":
            raise ez.TransportFailure.Unreachable("connection refused")
        return ez.HttpResponse(status=status, headers=[], body=f"body-of {request.url}")


def client(net):
    options = ez.ClientOptions(api_key=API_KEY, tracktags_url="http://proxy.invalid", ezthrottle_url="http://ezt.invalid")
    return ez.EzThrottle(options, net)


def expect_validation(vector, action):
    try:
        action()
    except (ez.EzThrottleError.Validation, LinkedStepRefused) as e:
        refusal = e.refusal if isinstance(e, LinkedStepRefused) else e
        assert refusal.path and refusal.detail, "the error names no field"
        if vector.get("expect_path"):
            assert e.path == vector["expect_path"], f"error at {e.path}, expected {vector['expect_path']}"
        return
    raise AssertionError("accepted")


async def payloads(v):
    if v.get("expect_error"):
        return expect_validation(v, lambda: build(v["calls"]).payload_json())
    step = build(v["calls"])
    first, second = [], []
    compare(json.loads(step.payload_json()), v["payload"], "payload", first)
    compare(json.loads(step.payload_json()), v["payload"], "payload", second)
    assert not set(first) & set(second), "two builds share a UUID"
    await submit_raw_job(v["payload"])
    if "proxy_request" in v:
        net = ScriptedNetwork(local_default=429)
        await client(net).execute(step)
        check_proxy_request(net.gateway[0], v["proxy_request"])


async def submit_raw_job(payload):
    """The job, handed over raw as the wire format (`submit_job_json`), reaches
    the gateway as it is. A generated key cannot be handed over."""
    job = json.dumps(payload)
    if "<uuid4>" in job:
        return
    net = ScriptedNetwork()
    await client(net).submit_job_json(job)
    assert len(net.submitted) == 1, f"{len(net.submitted)} jobs submitted"
    compare(net.submitted[0], payload, "submit_job_json", [])


def check_proxy_request(sent, want):
    """A gateway request the scripted network saw is the vector's `proxy_request`."""
    compare(sent.url, want["url"], "url", [])
    compare({h.name: h.value for h in sent.headers}, want["headers"], "headers", [])
    auth = next(h for h in sent.headers if h.name.lower() == "authorization")
    for shown in (repr(sent), str(sent), repr(sent.headers), str(auth)):
        assert API_KEY not in shown and "redacted" in shown, f"a logged request shows the key: {shown}"
    envelope = json.loads(sent.body)
    envelope["body"] = json.loads(envelope["body"])
    compare(envelope, want["envelope"], "envelope", [])


async def frugal(v):
    net = ScriptedNetwork(v.get("answers"))
    result = await client(net).execute(build(v["calls"]))
    compare(net.local, v["local_http_calls"], "local_http_calls", [])
    compare(net.submitted, v["submitted_jobs"], "submitted_jobs", [])
    compare(json.loads(result.json), v["result"], "result", [])


async def signatures(v):
    payload = v["payload"].encode()
    tolerance = v.get("tolerance", 300)
    if v.get("secondary_secret"):
        check = ez.verify_with_secrets(payload, v["header"], v["secret"], v["secondary_secret"], v["now"], tolerance)
    else:
        check = ez.verify_signature(payload, v["header"], v["secret"], v["now"], tolerance)
    assert check.valid == v["valid"] and check.reason == v["reason_code"], f"{check}"
    # Only the random vectors carry it (for a failed rotation).
    assert check.primary_reason == v.get("primary_reason_code", check.primary_reason), f"{check}"


def headers(given):
    return [ez.HttpHeader(name=name, value=value) for name, value in (given or {}).items()]


def metadata_json(given):
    return None if given is None else json.dumps(given)


async def forward(v):
    """This project's own file (the random vectors): a request handed over by
    existing code or the legacy call, through their records, and the
    reference's proxy request for it."""
    net = ScriptedNetwork()
    if "forward" in v:
        f = v["forward"]
        webhooks = [ez.Webhook(url=h["url"], regions=h.get("regions"), has_quorum_vote=h.get("has_quorum_vote"))
                    for h in f.get("webhooks", [])]
        await client(net).forward(ez.ForwardRequest(
            url=f["url"], method=f.get("method"), headers=headers(f.get("headers")), body=f.get("body"),
            idempotent_key=f.get("idempotent_key"), metadata_json=metadata_json(f.get("metadata")),
            webhooks=webhooks, regions=f.get("regions", [])))
    else:
        q = v["queue_request"]
        await client(net).queue_request(ez.QueueRequestOptions(
            url=q["url"], webhook_url=q["webhook_url"], method=q.get("method"), headers=headers(q.get("headers")),
            body=q.get("body"), metadata_json=metadata_json(q.get("metadata")), retry_at_ms=q.get("retry_at")))
    assert len(net.gateway) == 1, f"{len(net.gateway)} gateway requests"
    check_proxy_request(net.gateway[0], v["proxy_request"])


class ScriptedGateway(ez.HttpTransport):
    """Answers every request with one gateway answer."""

    def __init__(self, answer):
        self.answer = answer

    async def send(self, request):
        a = self.answer
        return ez.HttpResponse(status=a["status"], headers=headers(a["headers"]), body=a["body"])


async def gateway(v):
    """This project's own file (the random vectors): the gateway's answer to a
    submitted job, and the answer or error the reference's reading gives."""
    before = int(time.time() * 1000)
    try:
        answer = await client(ScriptedGateway(v["answer"])).submit_job_json(json.dumps(v["job"]))
    except ez.EzThrottleError as e:
        after, want = int(time.time() * 1000), v.get("error")
        assert want, f"expected {v['result']}, got {e!r}"
        kind = "".join(word.capitalize() for word in want["kind"].split("_"))
        assert type(e).__name__ == kind, f"{e!r} is not {kind}"
        seen = {"status": getattr(e, "status", None), "body": getattr(e, "body", None),
                "message": getattr(e, "detail", None), "retry_at": getattr(e, "retry_at_ms", None)}
        for field in ("status", "body", "message", "retry_at"):
            assert field not in want or seen[field] == want[field], f"{field}: {e!r}, expected {want}"
        if "retry_after_ms" in want:
            assert before + want["retry_after_ms"] <= seen["retry_at"] <= after + want["retry_after_ms"], f"{e!r}"
        return
    assert "result" in v, f"returned {answer.json}, expected {v['error']}"
    compare(json.loads(answer.json), v["result"], "result", [])


async def invalid(v):
    net = ScriptedNetwork()
    try:
        step = build(v["calls"])
    except (ez.EzThrottleError.Validation, LinkedStepRefused):
        return expect_validation(v, lambda: build(v["calls"]))
    expect_validation(v, step.payload_json)
    try:
        await client(net).execute(step)
        raise AssertionError("executed")
    except ez.EzThrottleError.Validation:
        assert not net.local and not net.gateway, "something was sent"


def refusals_name_the_field():
    """Values Python cannot type as unsigned reach the SDK, which names the field."""
    cases = [
        (lambda: ez.Step().webhook_quorum(-1), "webhook_quorum"),
        (lambda: ez.Step().retry_at_ms(-5), "retry_at"),
        (lambda: ez.EzThrottle(ez.ClientOptions(api_key="ck_k", timeout_ms=-1), None), "timeout_ms"),
        (lambda: ez.verify_signature(b"{}", None, "whsec_x", None, -300), "tolerance_secs"),
        (lambda: ez.Step.with_options(ez.StepOptions(url="https://a.example", webhook_quorum=-1)), "webhook_quorum"),
        (lambda: ez.Step.with_options(ez.StepOptions(metadata_json="[1")), "metadata"),
    ]
    for call, path in cases:
        try:
            call()
            raise AssertionError(f"{path}: accepted")
        except ez.EzThrottleError.Validation as e:
            assert e.path == path, f"{path}: refused as {e.path}"
    # Values of the wrong type stop at uniffi's converters, as a TypeError
    # (or a ValueError when out of range) that names the argument and field.
    typed = [
        (lambda: ez.Step().webhook_quorum("2"), TypeError, "quorum"),
        (lambda: ez.Step().retry_at_ms(1.5), TypeError, "at_ms"),
        (lambda: ez.Step().url(7), TypeError, "url"),
        (lambda: ez.Step().webhook_quorum(2 ** 70), ValueError, "quorum"),
        (lambda: ez.EzThrottle(ez.ClientOptions(api_key="ck_k", timeout_ms=1.5), None), TypeError, "options.timeout_ms"),
        (lambda: ez.Step.with_options(ez.StepOptions(url=7)), TypeError, "options.url"),
        # Inside collections, as the SDK's own paths: index, key, then field.
        (lambda: ez.Step().fallback_on_error([429, "x"]), TypeError, "codes[1]"),
        (lambda: ez.Step().regions(["iad", None]), TypeError, "regions[1]"),
        (lambda: ez.Step.with_options(ez.StepOptions(fallback_on_error=[429, 2 ** 40])), ValueError, "options.fallback_on_error[1]"),
        (lambda: ez.Step.with_options(ez.StepOptions(headers={"X-A": 3})), TypeError, 'options.headers["X-A"]'),
        (lambda: ez.Step.with_options(ez.StepOptions(headers={3: "x"})), TypeError, "options.headers[3]"),
        (lambda: ez.Step.with_options(ez.StepOptions(webhooks=[ez.Webhook(url=5)])), TypeError, "options.webhooks[0].url"),
        (lambda: ez.Step.with_options(ez.StepOptions(fallbacks=[ez.FallbackStep(step="x", trigger=ez.FallbackTrigger.ALWAYS())])),
         TypeError, "options.fallbacks[0].step"),
        (lambda: ez.Step.with_options(ez.StepOptions(on_success="x")), TypeError, "options.on_success"),
    ]
    for call, kind, path in typed:
        try:
            call()
            raise AssertionError(f"{path}: accepted")
        except kind as e:
            assert getattr(e, "path", None) == path and str(e).startswith(f"{path}: "), f"{path}: refused as {e!r}"


async def request_metadata_refusals():
    """A forward's or a queued request's metadata that is not a JSON object is
    refused naming the field, with the parser's words, as is a raw job's bad
    field; nothing is sent."""
    net = ScriptedNetwork()
    sdk = client(net)
    calls = [
        lambda m: sdk.forward(ez.ForwardRequest(url="https://api.example.com/x", metadata_json=m)),
        lambda m: sdk.queue_request(ez.QueueRequestOptions(url="https://api.example.com/x",
                                                           webhook_url="https://app.example/hook", metadata_json=m)),
    ]
    for call in calls:
        for metadata, detail in (("{\"a\":", "is not JSON"), ("[1]", "must be an object, not a list")):
            try:
                await call(metadata)
                raise AssertionError(f"{metadata!r}: accepted")
            except ez.EzThrottleError.Validation as e:
                assert e.path == "metadata" and e.detail.startswith(detail), f"{metadata!r}: {e.path}: {e.detail}"
    assert not net.gateway and not net.local, "a refused request was sent"
    # A raw wire job is checked field by field, as in every binding.
    for job, path in (('{"url":"https://a.example","on_success":{"method":"GET"}}', "on_success.url"),
                      ('{"url":"https://a.example","retry_policy":{"max_retries":"3"}}', "retry_policy.max_retries")):
        try:
            await sdk.submit_job_json(job)
            raise AssertionError(f"{job}: accepted")
        except ez.EzThrottleError.Validation as e:
            assert e.path == path, f"{job}: refused at {e.path}"
    assert not net.gateway, "a refused job was sent"


def step_with_options():
    """One call with every option gives the payload the setters give."""
    options = ez.StepOptions(url="https://api.example.com/x", method="post", body="{}",
                             headers={"B": "2", "A": "1"}, step_type=ez.StepType.FRUGAL,
                             regions=["iad"], fallback_on_error=[429], idempotent_key="k1")
    chained = (ez.Step().url("https://api.example.com/x").method("post").body("{}")
               .headers({"A": "1", "B": "2"}).step_type(ez.StepType.FRUGAL).regions(["iad"])
               .fallback_on_error([429]).idempotent_key("k1"))
    one, two = json.loads(ez.Step.with_options(options).payload_json()), json.loads(chained.payload_json())
    assert one == two and one["idempotent_key"] == "k1", f"{one} != {two}"
    # Linked steps too: a fallback on 500, on_success, on_failure with its timeout.
    backup, receipt = ez.Step().url("https://backup.example.com"), ez.Step().url("https://receipt.example.com")
    linked = ez.StepOptions(url="https://api.example.com/x", on_success=receipt, on_failure=backup, on_failure_timeout_ms=9000,
                            fallbacks=[ez.FallbackStep(step=backup, trigger=ez.FallbackTrigger.ON_ERROR(codes=[500]))])
    chained = (ez.Step().url("https://api.example.com/x").fallback(backup, ez.FallbackTrigger.ON_ERROR(codes=[500]))
               .on_success(receipt).on_failure(backup, 9000))
    one, two = json.loads(ez.Step.with_options(linked).payload_json()), json.loads(chained.payload_json())
    assert one == two and one["fallback_job"]["trigger"] == {"type": "on_error", "codes": [500]}, f"{one} != {two}"
    assert one["on_failure_timeout_ms"] == 9000 and one["on_success"]["url"] == "https://receipt.example.com", one


async def cancellation_token():
    """A CancellationToken ends a call whose transport never answers, at once;
    one cancelled before the call starts sends nothing."""
    started = asyncio.Event()
    sent = []

    class Hanging(ez.HttpTransport):
        async def send(self, request):
            sent.append(request.url)
            started.set()
            await asyncio.sleep(3600)

    client = ez.EzThrottle(ez.ClientOptions(api_key=API_KEY, tracktags_url="http://proxy.invalid"), Hanging())
    step = ez.Step().url("https://api.example.com/x")
    token = ez.CancellationToken()
    call = asyncio.ensure_future(client.execute(step, token))
    await asyncio.wait_for(started.wait(), 5)
    token.cancel()
    try:
        await asyncio.wait_for(call, 2)
        raise AssertionError("the call was not cancelled")
    except ez.EzThrottleError.Cancelled:
        pass
    assert token.is_cancelled() and len(sent) == 1, sent
    try:
        await client.submit(step, token)
        raise AssertionError("a cancelled token let a call run")
    except ez.EzThrottleError.Cancelled:
        assert len(sent) == 1, "a call with a cancelled token sent something"


async def a_status_no_server_sends():
    """An app's transport that answers 700 (or -1) has failed, as in every
    binding: the core's words, no response is made of it."""
    for status in (700, -1, 99):
        class Lying(ez.HttpTransport):
            async def send(self, request):
                return ez.HttpResponse(status=status, headers=[], body="{}")

        client = ez.EzThrottle(ez.ClientOptions(api_key=API_KEY, tracktags_url="http://proxy.invalid"), Lying())
        try:
            await client.execute(ez.Step().url("https://api.example.com/x"))
            raise AssertionError(f"status {status} was taken as an answer")
        except ez.EzThrottleError.Unreachable as e:
            assert e.kind == "transport" and f"answered {status} is not an HTTP status code" in str(e), e


def builtin_http_transport():
    """The built-in HTTP client from Python against a loopback server: any
    status is a response, failures are typed, and wrapped as the app's
    transport it runs a FRUGAL step."""
    class Busy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(503)
            self.send_header("X-Seen", self.headers.get("X-Trace", ""))
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"busy")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        builtin = ez.BuiltinHttpTransport()

        def request(url, timeout_ms=5000):
            return ez.HttpRequest(target=ez.RequestTarget.LOCAL, method="GET", url=url,
                                  headers=[ez.HttpHeader(name="X-Trace", value="t1")], body=None, timeout_ms=timeout_ms)

        answer = builtin.send(request(base + "/x"))
        assert answer.status == 503 and answer.body == "busy", answer
        assert ez.HttpHeader(name="x-seen", value="t1") in answer.headers, answer.headers
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        for url, timeout_ms, failure in ((f"http://127.0.0.1:{port}/", 5000, ez.TransportFailure.Unreachable),
                                         (base + "/x", -1, ez.TransportFailure.Timeout)):
            try:
                builtin.send(request(url, timeout_ms))
                raise AssertionError(f"{url} answered")
            except failure:
                pass

        class Wrapped(ez.BlockingHttpTransport):
            def send(self, request):
                return builtin.send(request)

        client = ez.EzThrottle.with_blocking_transport(
            ez.ClientOptions(api_key=API_KEY, tracktags_url="http://proxy.invalid"), Wrapped())
        step = ez.Step().url(base + "/x").step_type(ez.StepType.FRUGAL).fallback_on_error([429])
        result = client.execute_blocking(step)
        assert result.is_local() and not result.success and result.status_code == 503, result
    finally:
        server.shutdown()


async def main(root):
    folder = os.environ.get("EZTHROTTLE_VECTORS")
    folder = (root / folder if folder and not Path(folder).is_absolute() else Path(folder)) if folder else root / "conformance"
    runners = {"payloads": payloads, "frugal": frugal, "signatures": signatures, "invalid": invalid, "forward": forward,
               "gateway": gateway}
    passed, failed = 0, []
    for check in (refusals_name_the_field, request_metadata_refusals, step_with_options, cancellation_token, a_status_no_server_sends,
                  builtin_http_transport):
        try:
            if asyncio.iscoroutine(done := check()):
                await done
            passed += 1
        except Exception as e:  # noqa: BLE001 - reported like a vector
            failed.append(check.__name__)
            print(f"FAIL {check.__name__}: {type(e).__name__}: {e}")
    for file in sorted(folder.glob("*.json")):
        run = runners.get(file.stem)
        if run is None:
            continue
        for i, vector in enumerate(json.loads(file.read_text())):
            name = f"{file.stem}::{vector.get('name', f'#{i}')}"
            try:
                await run(vector)
                passed += 1
            except Exception as e:  # noqa: BLE001 - every failure is reported by name
                failed.append(name)
                print(f"FAIL {name}: {type(e).__name__}: {e}")
    print(f"python (uniffi): {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve())))
