"""fit's BLAS thread tuning: alternate, keep the faster, probe again, restore."""

import numpy as np
import pytest

import shendu
from shendu import blas, parallel
from shendu.models.thread_tuning import (
    BLOCK,
    CLOSE_SPACING,
    LOAD_CHECK_S,
    PROBE_SPACING,
    PROBE_STEPS,
    REPROBE_MIN_S,
    REPROBE_S,
    WARMUP_STEPS,
    BlasThreadTuner,
)

PROBE_TOTAL = 2 * (PROBE_STEPS + 1)  # a block per candidate, its first step not counted
FIRST_PROBE = PROBE_TOTAL + WARMUP_STEPS - 1  # a model's first fit: more steps uncounted


class FakeMachine:
    """A BLAS with a settable thread count and a clock whose step times depend on it."""

    def __init__(self, monkeypatch, threads=2, step_s=None):
        self.threads = threads
        self.now = 0.0
        self.step_s = step_s or {2: 1.0, 1: 2.0}
        self.history = []
        self.others = 0.0  # other programs' cores
        monkeypatch.setattr(blas, "num_threads", lambda: self.threads)
        monkeypatch.setattr(blas, "set_num_threads", self._set)
        monkeypatch.setattr(parallel, "limit_threads", lambda n: self.history.append(("p", n)))

    def _set(self, n):
        self.threads = n
        self.history.append(("blas", n))
        return True

    def clock(self):
        return self.now

    def load(self):
        return self.others

    def tuner(self):
        return BlasThreadTuner(clock=self.clock, load=self.load)

    def train_until_probe_is_due(self, tuner):
        """Training time passes up to the tuner's next probe (its steps not simulated one
        by one): the clock and the tuner's training time move together."""
        gap = tuner.next_probe - tuner.trained
        self.now += gap
        tuner.trained += gap

    def run(self, tuner, steps):
        for _ in range(steps):
            tuner.begin_step()
            self.now += self.step_s[self.threads]
            tuner.end_step()


def probed(monkeypatch, step_s=None):
    """A fake machine and a tuner that has finished its first probe there."""
    machine = FakeMachine(monkeypatch, step_s=step_s)
    tuner = machine.tuner()
    tuner.begin_fit()
    machine.run(tuner, FIRST_PROBE)
    return machine, tuner


def test_probes_both_counts_then_keeps_the_faster(monkeypatch):
    machine, tuner = probed(monkeypatch, {2: 3.0, 1: 1.0})  # a busy machine: 1 wins
    assert not tuner.probing and tuner.choice == 1
    # one thread is probed first, in full; all threads, 3x slower, are cut short
    assert len(tuner.times[1]) == PROBE_STEPS and len(tuner.times[2]) == 1
    machine.run(tuner, 3)
    assert machine.threads == 1
    tuner.end_fit()
    assert machine.threads == 2  # restored
    assert machine.history[-1] == ("p", None)


def test_an_idle_machine_keeps_all_threads_and_probes_again_later(monkeypatch):
    machine, tuner = probed(monkeypatch)  # 2 threads twice as fast
    assert tuner.choice == 2 and not tuner.probing
    machine.step_s = {2: 5.0, 1: 1.0}  # the machine gets busy
    machine.run(tuner, int((tuner.next_probe - machine.now) // 5) + 1 + PROBE_TOTAL)
    assert tuner.choice == 1


def test_the_choice_carries_over_to_the_next_fit(monkeypatch):
    machine, tuner = probed(monkeypatch, {2: 3.0, 1: 1.0})
    tuner.end_fit()
    tuner.begin_fit()
    assert machine.threads == 1 and not tuner.probing


@pytest.mark.parametrize("case", ["one BLAS thread", "not OpenBLAS", "fixed", "gpu", "gpu model"])
def test_nothing_is_tuned_when_it_should_not_be(monkeypatch, case):
    machine = FakeMachine(monkeypatch, threads=1 if case == "one BLAS thread" else 2)
    if case == "not OpenBLAS":
        monkeypatch.setattr(blas, "num_threads", lambda: None)
    if case == "fixed":
        monkeypatch.setenv("SHENDU_BLAS_THREADS", "fixed")
    if case == "gpu":
        monkeypatch.setattr(shendu.backend, "device", lambda: "gpu")
    tuner = machine.tuner()
    tuner.begin_fit("gpu" if case == "gpu model" else None)
    machine.run(tuner, 3 * PROBE_STEPS)
    tuner.end_fit()
    assert machine.history == []


def test_fit_tunes_and_restores_the_blas_threads():
    if blas.num_threads() is None or blas.num_threads() < 2:
        pytest.skip("needs OpenBLAS with 2 or more threads")
    before = blas.num_threads()
    model = shendu.Sequential([shendu.layers.Input((4,)), shendu.layers.Dense(3)])
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).standard_normal((64, 4)).astype("float32")
    model.fit(x, x[:, :3], batch_size=4, epochs=1, verbose=0)
    tuner = model._blas_tuner
    assert tuner.candidates == [before, 1] and tuner.choice in (before, 1)
    assert not tuner.probing  # 16 steps: the probe finished
    assert blas.num_threads() == before


def test_the_step_after_a_switch_is_not_counted(monkeypatch):
    machine = FakeMachine(monkeypatch)  # 2 threads twice as fast...
    penalty = {"next": 0.0}
    set_threads = blas.set_num_threads

    def switching_is_slow(n):  # ...but the first step after any change costs 100 s more
        if n != machine.threads:
            penalty["next"] = 100.0
        return set_threads(n)

    monkeypatch.setattr(blas, "set_num_threads", switching_is_slow)
    tuner = machine.tuner()
    tuner.begin_fit()
    for _ in range(FIRST_PROBE):
        tuner.begin_step()
        machine.now += machine.step_s[machine.threads] + penalty["next"]
        penalty["next"] = 0.0
        tuner.end_step()
    assert tuner.choice == 2


def test_a_clearly_slower_alternative_is_cut_short(monkeypatch):
    machine, tuner = probed(monkeypatch, {2: 10.0, 1: 1.0})
    assert tuner.choice == 1
    machine.train_until_probe_is_due(
        tuner
    )  # the next probe: 1 thread first, then 2 threads for 2 steps
    machine.run(tuner, PROBE_STEPS + 1 + 2)
    assert not tuner.probing and tuner.choice == 1
    assert len(tuner.times[2]) == 1


@pytest.mark.parametrize("one_thread_s, expected", [(1.05, 1), (1.2, 2)])
def test_all_threads_must_win_by_the_margin(monkeypatch, one_thread_s, expected):
    machine, tuner = probed(monkeypatch, {2: 1.0, 1: one_thread_s})
    assert tuner.choice == expected


def test_the_first_step_of_each_fit_is_not_counted(monkeypatch):
    machine = FakeMachine(monkeypatch)  # 2 threads twice as fast, fits of 3 steps
    tuner = machine.tuner()
    for _ in range(2 * PROBE_TOTAL):
        tuner.begin_fit()
        for i in range(3):
            tuner.begin_step()
            machine.now += machine.step_s[machine.threads] + (100.0 if i == 0 else 0.0)
            tuner.end_step()
        tuner.end_fit()
        if not tuner.probing:
            break
    assert not tuner.probing and tuner.choice == 2
    assert all(t < 10 for times in tuner.times.values() for t in times)


def test_a_choice_made_under_a_passing_load_is_probed_again_within_seconds(monkeypatch):
    # millisecond steps; when fit starts another program still holds the second core
    machine, tuner = probed(monkeypatch, {2: 0.008, 1: 0.004})
    assert tuner.choice == 1 and tuner.interval == REPROBE_MIN_S
    decided = machine.now
    machine.step_s = {2: 0.002, 1: 0.004}  # the load is gone
    machine.run(tuner, int(REPROBE_MIN_S / 0.004) + 1 + PROBE_TOTAL)
    assert tuner.choice == 2 and machine.threads == 2
    assert machine.now - decided < 2 * REPROBE_MIN_S  # not REPROBE_S later


def test_probe_intervals_double_while_the_choice_holds_up_to_reprobe_s(monkeypatch):
    machine, tuner = probed(monkeypatch, {2: 0.005, 1: 0.0075})
    intervals = []
    for _ in range(8):
        intervals.append(tuner.interval)
        machine.train_until_probe_is_due(tuner)
        machine.run(tuner, PROBE_TOTAL)
        assert not tuner.probing and tuner.choice == 2
    assert intervals == [1.0, 2.0, 4.0, 8.0, 16.0, REPROBE_S, REPROBE_S, REPROBE_S]
    machine.step_s = {2: 0.008, 1: 0.004}  # busy: the choice changes, intervals start over
    machine.train_until_probe_is_due(tuner)
    machine.run(tuner, PROBE_TOTAL)
    assert tuner.choice == 1 and tuner.interval == REPROBE_MIN_S


def test_long_steps_are_probed_at_most_a_tenth_of_the_time(monkeypatch):
    machine = FakeMachine(monkeypatch, step_s={2: 1.0, 1: 2.0})  # a probe takes about 15 s
    tuner = machine.tuner()
    tuner.begin_fit()
    start = machine.now
    machine.run(tuner, FIRST_PROBE)
    spent = machine.now - start
    assert not tuner.probing
    assert tuner.interval == PROBE_SPACING * spent


def test_one_thread_is_probed_first_so_a_passing_load_does_not_decide(monkeypatch):
    """Another program's threads spin for the first steps of a fit: that slows all threads,
    not one. Probed first, one thread takes those steps, and all threads win afterwards."""
    machine = FakeMachine(monkeypatch, step_s={2: 0.002, 1: 0.004})
    tuner = machine.tuner()
    tuner.begin_fit()
    for i in range(FIRST_PROBE):
        tuner.begin_step()
        spinning = i < PROBE_STEPS + 1  # the first block's worth of steps
        machine.now += (
            0.007 if spinning and machine.threads == 2 else machine.step_s[machine.threads]
        )
        tuner.end_step()
    assert [h for h in machine.history if h[0] == "blas"][0] == ("blas", 1)
    assert not tuner.probing and tuner.choice == 2


def test_a_close_call_is_probed_again_soon(monkeypatch):
    """Medians within CLOSE of each other: a few noisy steps decided, so the next probe
    comes after CLOSE_SPACING (not PROBE_SPACING) times the probe's duration."""
    machine = FakeMachine(monkeypatch, step_s={2: 1.0, 1: 1.1})  # a probe takes about 15 s
    tuner = machine.tuner()
    tuner.begin_fit()
    start = machine.now
    machine.run(tuner, FIRST_PROBE)
    assert not tuner.probing and tuner.choice == 1  # within the margin: one thread
    assert tuner.interval == CLOSE_SPACING * (machine.now - start)
    first = tuner.interval
    machine.train_until_probe_is_due(tuner)
    start = machine.now
    machine.run(tuner, PROBE_TOTAL)  # the same close call again: the interval is not doubled
    assert tuner.choice == 1 and tuner.interval == CLOSE_SPACING * (machine.now - start) < first


def test_other_programs_starting_start_a_probe_at_once(monkeypatch):
    machine, tuner = probed(monkeypatch, {2: 0.002, 1: 0.004})
    for _ in range(3):  # the choice holds: the intervals grow to 4 s
        machine.train_until_probe_is_due(tuner)
        machine.run(tuner, PROBE_TOTAL)
    assert tuner.choice == 2 and tuner.interval == 8.0
    machine.run(tuner, int(LOAD_CHECK_S / 0.002) + 1)  # steady: no probe
    assert not tuner.probing
    changed, next_probe = tuner.trained, tuner.next_probe
    machine.others = 1.0  # another program takes a core: two threads now lose
    machine.step_s = {2: 0.008, 1: 0.004}
    machine.run(tuner, int(LOAD_CHECK_S / 0.008) + 1 + PROBE_TOTAL)
    assert tuner.choice == 1 and machine.threads == 1
    assert tuner.trained - changed < 2 * LOAD_CHECK_S < next_probe - changed


@pytest.mark.parametrize("others", [0.3, None])
def test_a_small_or_unmeasured_load_change_starts_no_probe(monkeypatch, others):
    machine, tuner = probed(monkeypatch, {2: 0.002, 1: 0.004})
    next_probe = tuner.next_probe
    machine.others = others
    machine.run(tuner, int((next_probe - machine.now) / 0.002) - 1)
    assert not tuner.probing and machine.now < next_probe


def test_a_models_first_steps_are_not_counted(monkeypatch):
    """Its memory and replayed step are set up then: WARMUP_STEPS slow steps do not count."""
    machine = FakeMachine(monkeypatch, step_s={2: 0.002, 1: 0.004})
    tuner = machine.tuner()
    tuner.begin_fit()
    for i in range(FIRST_PROBE):
        tuner.begin_step()
        machine.now += 1.0 if i < WARMUP_STEPS else machine.step_s[machine.threads]
        tuner.end_step()
    assert not tuner.probing and tuner.choice == 2
    assert max(max(t) for t in tuner.times.values()) < 0.01


def test_the_interval_counts_the_probes_steps_not_the_time_between_fits(monkeypatch):
    """Fits of 3 steps with 50 s of other work between them (another library's run): the
    probe's cost is its steps' time, so the next probe is not pushed back by the gaps."""
    machine = FakeMachine(monkeypatch, step_s={2: 0.01, 1: 0.02})
    tuner = machine.tuner()
    spent = 0.0
    while True:
        tuner.begin_fit()
        for _ in range(3):
            tuner.begin_step()
            machine.now += machine.step_s[machine.threads]
            spent += machine.step_s[machine.threads]
            tuner.end_step()
        tuner.end_fit()
        if not tuner.probing:
            break
        machine.now += 50.0
    assert tuner.choice == 2
    assert tuner.interval == pytest.approx(max(REPROBE_MIN_S, PROBE_SPACING * spent))
    assert tuner.interval < 50.0


def test_time_between_fits_does_not_bring_the_next_probe_on(monkeypatch):
    """Fits separated by long pauses (evaluation, another library's runs): the interval is
    counted in training time, so a probe does not start at every fit."""
    machine, tuner = probed(monkeypatch, {2: 0.01, 1: 0.02})
    probes = 0
    for _ in range(20):  # 20 fits of 5 steps (1 s of training), 100 s apart
        machine.now += 100.0
        tuner.begin_fit()
        for _ in range(5):
            probes += not tuner.probing and tuner.trained >= tuner.next_probe
            tuner.begin_step()
            machine.now += machine.step_s[machine.threads]
            tuner.end_step()
        tuner.end_fit()
    assert tuner.trained == pytest.approx(0.01 * (FIRST_PROBE + 100), rel=0.3)
    assert probes <= 3  # at 1, 2 (and 4) s of training, not at each of the 20 fits


def test_a_busy_machine_keeps_one_thread_without_timing_all_threads(monkeypatch):
    """Another program holds the second core (1.0 core read during the one-thread block):
    all threads are not run at all; when it stops, a probe times them and they win."""
    machine = FakeMachine(monkeypatch, step_s={2: 0.02, 1: 0.01})
    machine.others = 1.0
    tuner = machine.tuner()
    tuner.begin_fit()
    machine.run(tuner, FIRST_PROBE - BLOCK)  # the warm-up and the one-thread block
    assert not tuner.probing and tuner.choice == 1
    assert tuner.times[2] == [] and ("blas", 2) not in machine.history
    machine.others, machine.step_s = 0.0, {2: 0.005, 1: 0.01}  # the program stops
    machine.run(tuner, int(LOAD_CHECK_S / 0.01) + 1 + PROBE_TOTAL)
    assert tuner.choice == 2 and machine.threads == 2


def test_a_light_load_still_times_all_threads(monkeypatch):
    machine = FakeMachine(monkeypatch, step_s={2: 0.005, 1: 0.01})
    machine.others = 0.5  # below BUSY_SHARE of the second core
    tuner = machine.tuner()
    tuner.begin_fit()
    machine.run(tuner, FIRST_PROBE)
    assert tuner.choice == 2 and len(tuner.times[2]) == PROBE_STEPS
