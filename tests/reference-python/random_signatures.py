"""Random webhook signature vectors, checked by the reference SDK's own
verifier (ezthrottle 1.3.0's webhook_utils.py, the version conformance/
signatures.json comes from; 1.1.0 has no verifier), in that file's format,
plus `primary_reason_code` for a rotation that failed: why the primary secret
failed, as the reference's reason text says.

The verifier is loaded from its file alone: it imports nothing but the
standard library, and the builder vectors keep their 1.1.0 package.

Only headers both verifiers read alike are generated. This project refuses
as `malformed_header` a header with a `v1` and no `t`, with `t` twice, or
with a `t` that is not a whole number (the reference reads a missing `t` as
0, keeps the last of two and fails a non-number with `verification_error`),
and an empty secret verifies nothing here. Both compare `v1` as text, but the
reference raises on non-ASCII text, so every `v1` here is ASCII. Strings
hold no NUL: the C runner reads the vectors with cJSON.
"""
import hashlib
import hmac
import importlib.util
from unittest import mock

PAYLOADS = [
    '{"job_id":"job_1","idempotent_key":"k1","status":"success","response":{"status_code":200,"body":"ok"}}',
    "",
    "plain text",
    '{"job_id":"job_2","status":"failed","note":"ünïcødé 🎉"}',
    "line\nbreak, comma, t=1,v1=abc",
    " ",
]
SECRETS = ["whsec_primary_0123456789", "whsec_secondary_abcdefgh", "s", "ünï secret 🎉", "a,b=c"]
TOLERANCES = [0, 1, 60, 300, 600, 86400]
REASON_CODES = {
    "valid", "valid_primary", "valid_secondary", "no_signature_header", "missing_v1_signature",
    "timestamp_expired", "signature_mismatch", "both_secrets_failed",
}
EXTRA_PARTS = ["v0=deadbeef", "v2=abc", "foo", "", "x=", "=y", " v1=ignored", "t =5", "T=1", "V1=abc"]


def load_verifier(path):
    spec = importlib.util.spec_from_file_location("reference_webhook_utils", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def signature(secret, timestamp, payload):
    message = f"{timestamp}.{payload}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def timestamp_text(rng, t):
    """`t` as the header writes it: forms both verifiers read as the same integer."""
    digits = str(abs(t))
    form = rng.choice(["plain", "plain", "plain", "zeros", "plus"])
    if form == "zeros":
        digits = "0" * rng.randint(1, 3) + digits
    sign = "-" if t < 0 else ("+" if form == "plus" else "")
    return sign + digits


def v1_value(rng, primary, secondary, stamp, payload):
    kind = rng.choice(["primary", "primary", "secondary", "other", "upper", "short", "empty", "junk"])
    if kind == "secondary" and secondary:
        return signature(secondary, stamp, payload)
    if kind in ("primary", "secondary"):
        return signature(primary, stamp, payload)
    if kind == "other":
        return signature("whsec_someone_else", stamp, payload)
    if kind == "upper":
        return signature(primary, stamp, payload).upper()
    if kind == "short":
        return signature(primary, stamp, payload)[:-1]
    if kind == "junk":
        return rng.choice(["zz", "0", "=", "abc def"])
    return ""


def header_parts(rng, stamp, v1s):
    parts = [f"t={stamp}"] if rng.random() < 0.9 else []
    if rng.random() < 0.1:
        parts.append(f"t={stamp}")
    parts += [f"v1={v}" for v in v1s]
    parts += rng.sample(EXTRA_PARTS, rng.randint(0, 2))
    if rng.random() < 0.3:
        rng.shuffle(parts)
    return parts


def read_alike(parts):
    """Whether both verifiers read these parts the same way (see the docstring)."""
    fields = [p.split("=", 1) for p in parts if "=" in p]
    v1 = next((value for key, value in reversed(fields) if key == "v1"), "")
    if not v1:
        return True  # both stop at missing_v1_signature before reading t
    stamps = [value for key, value in fields if key == "t"]
    return len(stamps) == 1


def signature_vector(rng, i, verifier):
    payload = rng.choice(PAYLOADS)
    primary, secondary = rng.sample(SECRETS, 2)
    rotation = rng.random() < 0.4
    tolerance = rng.choice(TOLERANCES)
    t = rng.choice([1764320000, 0, 1, -5, 2**31, 10**12])
    stamp = timestamp_text(rng, t)
    drift = rng.choice([0, 1, -1, tolerance, -tolerance, tolerance + 1, -tolerance - 1, rng.randint(-10**6, 10**6)])
    v1s = [v1_value(rng, primary, secondary if rotation else None, stamp, payload) for _ in range(rng.choice([1, 1, 1, 2, 0]))]
    parts = header_parts(rng, stamp, v1s)
    if not read_alike(parts):
        parts = [p for p in parts if not p.startswith("t=")] + [f"t={stamp}"]
    header = "" if rng.random() < 0.05 else ",".join(parts)
    now = t + drift
    with mock.patch.object(verifier.time, "time", return_value=float(now)):
        if rotation:
            valid, reason = verifier.try_verify_with_secrets(payload.encode(), header, primary, secondary, tolerance)
        else:
            valid, reason = verifier.verify_webhook_signature(payload.encode(), header, primary, tolerance)
    vector = {"name": f"random_signature_{i}", "payload": payload, "header": header, "secret": primary}
    if rotation:
        vector["secondary_secret"] = secondary
    # The reference appends details to a reason: "timestamp_expired (diff=…)".
    code = reason.split(" ")[0]
    assert code in REASON_CODES, f"the reference read {header!r} as {reason!r}: not a case both read alike"
    vector.update({"now": now, "tolerance": tolerance, "valid": valid, "reason_code": code})
    if code == "both_secrets_failed":
        # "both_secrets_failed (primary: signature_mismatch)". The reference
        # names the last secret's reason; the two always fail alike here (a
        # header or clock fault fails both, and neither secret signed it).
        vector["primary_reason_code"] = reason.split("(primary: ")[1].split(" ")[0].rstrip(")")
    return vector
