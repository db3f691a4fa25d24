"""Mutated requests from several connections: the simulator answers or hangs up, never crashes or stalls."""

from __future__ import annotations

import logging

from cpppo.server.enip import Simulator
from cpppo.testing.fuzz import enip_campaign, enip_health


def test_mutated_requests_never_crash_or_stall_the_simulator(caplog):
    with caplog.at_level(logging.WARNING, logger="cpppo"), \
            Simulator(["FUZZ=DINT", "ARR=DINT[100]", "NAME=STRING"], io_log=100, frame_timeout=1.0) as plc:
        report = enip_campaign(plc.address, seed=20261203, check_every=400).run(frames=3000)
        assert enip_health(plc.address)
    assert report.frames == 3000 and report.checks >= 8
    assert report.failed_checks == []  # every health check on a fresh connection was answered
    bugs = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bugs, [r.getMessage() for r in bugs[:5]]  # no traceback: bad input is a status, not a bug
