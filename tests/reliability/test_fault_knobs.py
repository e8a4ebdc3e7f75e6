"""The fault knobs the reliability tests rely on do what they say (``shared/ecs_emulator/faults.py``)."""

from __future__ import annotations

from ecs_emulator.faults import Faults


def strikes(faults: Faults, calls: int, action: str = "RenewInstance", ids: tuple[str, ...] = ()) -> list[str]:
    return [rule.kind if (rule := faults.take(action, "cn-hangzhou", ids)) else "-" for _ in range(calls)]


def test_after_lets_the_first_matching_calls_through():
    faults = Faults()
    faults.add(action="RenewInstance", kind="error", after=2, times=2)
    assert strikes(faults, 5) == ["-", "-", "error", "error", "-"]
    assert strikes(faults, 1, action="DescribeInstances") == ["-"]


def test_probability_storms_are_seeded_and_roughly_that_strong():
    def run(seed: int) -> list[str]:
        faults = Faults()
        faults.seed(seed)
        faults.add(action="RenewInstance", kind="throttle", times=None, probability=0.25)
        return strikes(faults, 2000)

    first = run(7)
    assert first == run(7) and first != run(8)
    assert 400 < first.count("throttle") < 600


def test_pass_runs_its_callback_at_that_call_and_injects_nothing():
    faults = Faults()
    seen: list[int] = []
    faults.add(action="RenewInstance", kind="pass", after=1, times=1, then=lambda: seen.append(1))
    assert strikes(faults, 3) == ["-", "-", "-"] and seen == [1]
    assert sum(faults.injected.values()) == 0


def test_injected_counts_every_fault_by_kind_and_survives_clear():
    faults = Faults()
    faults.add(kind="error", instance_id="i-a", times=None)
    faults.region_down("cn-shanghai")
    faults.rate_limit = 1
    strikes(faults, 2, ids=("i-a",))
    assert faults.is_region_down("cn-shanghai") and not faults.is_region_down("cn-hangzhou")
    assert faults.admit("X") and not faults.admit("X")
    faults.clear()
    assert faults.injected == {"error": 2, "region_down": 1, "rate_limit": 1}
