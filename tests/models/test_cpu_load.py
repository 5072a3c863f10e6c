"""Other programs' use of the cores, from /proc/stat and this process's CPU time."""

import os
from types import SimpleNamespace

import pytest

from shendu.models import cpu_load
from shendu.models.cpu_load import OtherProgramsLoad


def write_stat(path, user, system, idle, steal=0):
    # user nice system idle iowait irq softirq steal guest guest_nice, in ticks
    path.write_text(f"cpu  {user} 0 {system} {idle} 7 0 0 {steal} 0 0\\ncpu0 1 2 3 4\\n")


@pytest.fixture
def fake(monkeypatch, tmp_path):
    state = SimpleNamespace(now=10.0, own=2.0, path=tmp_path / "stat")
    monkeypatch.setattr(cpu_load, "_clock_ticks", lambda: 100)
    monkeypatch.setattr(os, "times", lambda: SimpleNamespace(user=state.own, system=0.0))
    write_stat(state.path, 1000, 500, 9000)
    state.meter = OtherProgramsLoad(str(state.path), clock=lambda: state.now)
    return state


def test_others_are_the_machines_busy_time_less_our_own(fake):
    # 2 s of wall time: the machine busy 3.5 s (user, system and steal), this process 1.5 s
    write_stat(fake.path, 1000 + 200, 500 + 100, 9000 + 50, steal=50)
    fake.now += 2.0
    fake.own += 1.5
    assert fake.meter.read() == pytest.approx(1.0)  # (3.5 - 1.5) / 2 cores
    # each reading starts the next interval; idle and iowait ticks are not busy
    write_stat(fake.path, 1200, 600, 9000 + 400, steal=50)
    fake.now += 2.0
    assert fake.meter.read() == pytest.approx(0.0)


def test_our_own_work_alone_reads_as_no_load(fake):
    write_stat(fake.path, 1000 + 100, 500, 9000)
    fake.now += 1.0
    fake.own += 1.2  # ticks are coarser than os.times: never below 0
    assert fake.meter.read() == 0.0


def test_no_time_passed_or_no_stat_file_reads_none(fake, tmp_path):
    assert fake.meter.read() is None  # the clock has not moved
    missing = OtherProgramsLoad(str(tmp_path / "absent"), clock=lambda: fake.now)
    fake.now += 1.0
    assert missing.read() is None


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="needs Linux's /proc/stat")
def test_the_real_machine_gives_a_reading():
    import time

    meter = OtherProgramsLoad()
    time.sleep(0.05)
    reading = meter.read()
    assert reading is not None and 0.0 <= reading <= (os.cpu_count() or 1) + 0.5
