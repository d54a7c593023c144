"""The reference client of the side-by-side benchmark: ezthrottle==1.1.0
from PyPI, unchanged, used the way its README shows.

    python reference.py RUN_JSON      (prints one JSON line of figures)
"""
import json
import sys
import time
from pathlib import Path

import requests
from ezthrottle import EZThrottle

# The step builder from calls, shared with the random vectors.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reference-python"))
from reference_calls import build  # noqa: E402


def percentile_ms(sorted_seconds, p):
    rank = max(1, min(len(sorted_seconds), int(-(-len(sorted_seconds) * p // 1))))
    return sorted_seconds[rank - 1] * 1e3


def submits(client, run):
    count = run["submits"]
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        t = time.perf_counter()
        step = build(run["submit"]).idempotent_key(f"bench-{run['run_id']}-python-{i}")
        answer = step.execute(client)
        assert answer["status"] == "queued", answer
        latencies.append(time.perf_counter() - t)
    seconds = time.perf_counter() - started
    latencies.sort()
    return {"n": count, "seconds": seconds, "per_sec": count / seconds,
            "p50_ms": percentile_ms(latencies, 0.50), "p99_ms": percentile_ms(latencies, 0.99)}


def plain(request):
    # What Step._execute_local does, without the SDK around it.
    response = getattr(requests, request["method"].lower())(
        request["url"], headers=request["headers"], data=request["body"], timeout=30)
    assert 200 <= response.status_code < 300
    return response.text


def frugal(client, step):
    answer = step.execute(client)
    assert answer["executed_locally"], answer


def frugal_overhead(client, run):
    count = run["frugal"]
    step = build(run["frugal_calls"])
    for _ in range(100):
        plain(run["frugal_plain"])
        frugal(client, step)
    plain_time = step_time = 0.0
    for _ in range(count):
        t = time.perf_counter()
        plain(run["frugal_plain"])
        u = time.perf_counter()
        frugal(client, step)
        plain_time += u - t
        step_time += time.perf_counter() - u
    plain_ms, step_ms = plain_time * 1e3 / count, step_time * 1e3 / count
    return {"n": count, "step_ms": step_ms, "plain_ms": plain_ms,
            "overhead_pct": (step_ms - plain_ms) / plain_ms * 100}


def builds(run):
    """Twenty rounds of a twentieth each; the fastest counts (noise only adds)."""
    count, rounds = run["builds"], 20
    step = build(run["build"])
    for _ in range(1000):
        json.dumps(step._build_job_payload())
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(count // rounds):
            json.dumps(step._build_job_payload())
        best = min(best, (time.perf_counter() - started) / (count // rounds))
    return {"n": count, "per_sec": 1 / best, "us": best * 1e6}


def main():
    with open(sys.argv[1]) as f:
        run = json.load(f)
    client = EZThrottle(api_key=run["api_key"], tracktags_url=run["sandbox"])
    print(json.dumps({
        "client": "Python reference 1.1.0",
        "submit": submits(client, run),
        "frugal": frugal_overhead(client, run),
        "build": builds(run),
    }))


if __name__ == "__main__":
    main()
