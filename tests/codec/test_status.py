"""CIP status codes: general statuses, and extended statuses named relative to their general status."""

from __future__ import annotations

import pytest

from cpppo.cip.status import (
    ConnectionFailureStatus,
    GeneralStatus,
    LogixErrorStatus,
    extended_status_name,
    status_name,
)


def test_general_status_names():
    assert status_name(0x06) == "partial transfer" and status_name(0xFF) == "general error"
    assert status_name(0x77) == "status 0x77"


@pytest.mark.parametrize(("general", "extended", "name"), [
    (0x01, 0x0100, "connection in use"),
    (0x01, 0x0107, "target connection not found"),
    (0x01, 0x0108, "invalid network connection parameter"),
    (0x01, 0x0109, "invalid connection size"),
    (0x01, 0x0113, "out of connections"),
    (0x01, 0x0311, "port not available"),
    (0x01, 0x0312, "link address not valid"),
    (0xFF, 0x2104, "offset beyond end"),
    (0xFF, 0x2105, "access beyond end"),
    (0xFF, 0x2107, "data type mismatch"),
    (0xFF, 0x0107, "extended status 0x0107"),  # an extended status means something only under its general one
    (0x01, 0x2105, "extended status 0x2105"),
    (0x05, 0x0000, "extended status 0x0000"),
])
def test_extended_status_names(general, extended, name):
    assert extended_status_name(general, extended) == name


def test_extended_statuses_are_the_numbers_on_the_wire():
    assert ConnectionFailureStatus.CONNECTION_IN_USE == 0x0100
    assert ConnectionFailureStatus.PORT_NOT_AVAILABLE == 0x0311
    assert LogixErrorStatus.ACCESS_BEYOND_END == 0x2105
    assert GeneralStatus(0x01) is GeneralStatus.CONNECTION_FAILURE
    assert len({s.value for s in ConnectionFailureStatus}) == len(ConnectionFailureStatus)
