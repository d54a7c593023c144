"""A reference SDK Step from conformance `[name, argument]` calls, through the
reference's own builder: shared by the random vectors (random_vectors.py) and
the benchmark's reference client (tests/bench/reference.py)."""
from ezthrottle import IdempotentStrategy, Step, StepType


def build(calls):
    """The reference SDK's Step for `calls`."""
    step = Step()
    for name, arg in calls:
        if name == "type":
            step.type(StepType(arg))
        elif name == "idempotent_strategy":
            step.idempotent_strategy(IdempotentStrategy(arg))
        elif name == "fallback":
            step.fallback(build(arg["step"]), arg.get("trigger_on_error"), arg.get("trigger_on_timeout"))
        elif name == "on_success":
            step.on_success(build(arg))
        elif name == "on_failure":
            step.on_failure(build(arg["step"]), arg.get("timeout_ms"))
        else:
            getattr(step, name)(arg)
    return step
