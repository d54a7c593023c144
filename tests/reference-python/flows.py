"""The reference SDK's README flows against the sandbox (EZT_URL, EZT_KEY).

Each flow prints its name and outcome; the last line is "N passed, N failed".
"""
import hashlib
import hmac
import json
import os
import sys
import time
import traceback
import uuid

import requests
from ezthrottle import (EZThrottle, ForwardToEZThrottle, IdempotentStrategy, Step,
                        StepType, auto_forward)

URL = os.environ["EZT_URL"]
KEY = os.environ["EZT_KEY"]
SECRET = "reference_python_secret_0123"
RUN = uuid.uuid4().hex[:8]

client = EZThrottle(api_key=KEY, tracktags_url=URL)


def up(path):
    return f"{URL}/upstream/{path}"


def hook(name):
    return f"{URL}/receiver/py-{RUN}-{name}"


def deliveries(name, count=1, timeout=20.0):
    """Wait for `count` deliveries at a receiver box and check their signatures."""
    deadline = time.time() + timeout
    while True:
        got = requests.get(hook(name), timeout=5).json()
        if len(got) >= count:
            break
        if time.time() > deadline:
            raise AssertionError(f"{name}: {len(got)} of {count} webhook(s)")
        time.sleep(0.05)
    events = []
    for delivery in got:
        parts = dict(p.split("=", 1) for p in delivery["signature"].split(","))
        expected = hmac.new(SECRET.encode(), f"{parts['t']}.{delivery['body']}".encode(), hashlib.sha256).hexdigest()
        assert hmac.compare_digest(parts["v1"], expected), "bad webhook signature"
        assert abs(time.time() - int(parts["t"])) <= 300
        events.append(json.loads(delivery["body"]))
    return events


def flow_performance_webhook():
    result = (Step(client).url(up("status/200")).method("POST").type(StepType.PERFORMANCE)
              .webhooks([{"url": hook("perf")}]).execute())
    assert result["status"] == "queued", result
    event = deliveries("perf")[0]
    assert event["job_id"] == result["job_id"] and event["status"] == "success", event


def flow_hash_dedupe():
    step = lambda: (Step(client).url(up(f"count/py-{RUN}-hash")).body('{"amount": 1000, "currency": "usd"}')
                    .idempotent_strategy(IdempotentStrategy.HASH))
    first, second = step().execute(), step().execute()
    assert first["job_id"] == second["job_id"], (first, second)
    assert second["status"] == "duplicate", second


def flow_unique():
    step = lambda: Step(client).url(up("status/200")).idempotent_strategy(IdempotentStrategy.UNIQUE)
    first, second = step().execute(), step().execute()
    assert first["job_id"] != second["job_id"], (first, second)


def flow_frugal_local():
    result = Step(client).url(up("status/200")).type(StepType.FRUGAL).execute()
    assert result["executed_locally"] is True and result["status_code"] == 200, result


def flow_frugal_forwarded():
    result = (Step(client).url(up(f"flaky/py-{RUN}/1/429")).type(StepType.FRUGAL)
              .fallback_on_error([429, 500, 503]).webhooks([{"url": hook("frugal")}]).execute())
    assert "job_id" in result, result
    event = deliveries("frugal")[0]
    assert event["status"] == "success" and event["response"]["status_code"] == 200, event


def flow_fallback_chain():
    result = (Step(client).url(up("status/500")).webhooks([{"url": hook("fallback")}])
              .retry_policy({"max_retries": 0})
              .fallback(Step().url(up("status/200")), trigger_on_error=[500, 502, 503]).execute())
    event = deliveries("fallback")[0]
    assert event["job_id"] == result["job_id"], (event, result)
    assert event["status"] == "success" and event["response"]["body"] == "status 200", event


def flow_on_success():
    result = (Step(client).url(up("status/200")).webhooks([{"url": hook("parent")}])
              .on_success(Step().url(up("echo")).webhooks([{"url": hook("child")}])).execute())
    parent, child = deliveries("parent")[0], deliveries("child")[0]
    assert parent["job_id"] == result["job_id"] and child["job_id"] != result["job_id"]
    assert child["status"] == "success", child


def flow_auto_forward():
    @auto_forward(client)
    def legacy_call(order_id):
        response = requests.get(up("status/429"), timeout=5)
        if response.status_code == 429:
            raise ForwardToEZThrottle(url=up("status/200"), method="POST", body='{"amount": 1000}',
                                      idempotent_key=f"order_{order_id}_{RUN}", metadata={"order_id": order_id},
                                      webhooks=[{"url": hook("forward")}])
        return response.json()

    result = legacy_call("12345")
    assert result["status"] == "queued", result
    event = deliveries("forward")[0]
    assert event["metadata"] == {"order_id": "12345"} and event["status"] == "success", event


def main():
    requests.post(f"{URL}/api/v1/webhook-secrets", json={"primary_secret": SECRET},
                  headers={"Authorization": f"Bearer {KEY}"}, timeout=5).raise_for_status()
    flows = [v for k, v in globals().items() if k.startswith("flow_")]
    passed = failed = 0
    for flow in flows:
        try:
            flow()
            passed += 1
            print(f"ok     {flow.__name__}")
        except Exception:
            failed += 1
            print(f"FAILED {flow.__name__}")
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
