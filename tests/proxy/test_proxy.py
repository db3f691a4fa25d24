"""Proxies (seed 2.1.7) over real sockets: a simulated PowerFlex 750 (``poll_test``), a simulated
Logix serving ``@0x93`` attributes as a simple device (``enip_server -S``), and a routing Logix."""

from __future__ import annotations

import re
import subprocess
import sys
import threading

import pytest

from cpppo.dotdict import dotdict
from cpppo.errors import CpppoError
from cpppo.server.enip import Simulator
from cpppo.server.enip.ab import powerflex_750_series
from cpppo.server.enip.get_attribute import ParameterError, attribute_operations, proxy, proxy_simple
from cpppo.server.enip.poll_test import powerflex_simulator


@pytest.fixture(scope="module")
def drive():
    with powerflex_simulator() as sim:
        yield sim


@pytest.fixture
def via(drive):
    via = powerflex_750_series(host="127.0.0.1", port=drive.address[1], timeout=5)
    yield via
    via.close_gateway()


def test_attribute_operations_as_the_seed_asserts():
    values = "512,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0"
    (op,) = attribute_operations(["@0x4/0x96/3 = (INT)" + values])
    assert op == {"method": "set_attribute_single", "path": [{"class": 4}, {"instance": 150}, {"attribute": 3}],
                  "tag_type": 195, "elements": 18, "data": [512] + [0] * 17}
    assert list(attribute_operations(["@1/1/7", "@1/1"])) == [
        {"path": [{"class": 1}, {"instance": 1}, {"attribute": 7}], "method": "get_attribute_single"},
        {"path": [{"class": 1}, {"instance": 1}], "method": "get_attributes_all"}]


def test_parameter_substitution_names_writes_and_pass_thru(via):
    assert list(via.parameter_substitution("Motor Velocity")) == [("@0x93/3/10", "REAL")]
    assert list(via.parameter_substitution(["output  CURRENT", "Speed Units = 2"])) == [
        ("@0x93/7/10", "REAL"), ("@0x93/300/10=(DINT)2", "DINT")]
    assert list(via.parameter_substitution(["SCADA[1]", "@1/1/7"], pass_thru=True)) == ["SCADA[1]", "@1/1/7"]
    with pytest.raises(ParameterError, match="'Bogus'"):
        list(via.parameter_substitution(["Bogus"], pass_thru=False))

    class some_sensor(proxy_simple):  # the seed's way to declare shortcut names
        PARAMETERS = dict(proxy_simple.PARAMETERS, a_sensor_parameter=proxy_simple.parameter("@0x93/1/10", "REAL", "Hz"))

    assert list(some_sensor("h").parameter_substitution("A Sensor Parameter")) == [("@0x93/1/10", "REAL")]
    assert "product_name" in some_sensor.PARAMETERS


def test_reads_convert_to_each_parameters_type_and_identity_shows_in_str(via, drive):
    assert str(via) == "None at None"
    names = ["Motor Velocity", "Output Current", "Output Frequency", "Elapsed KwH", "Speed Units", "Product Name",
             "Identity"]
    with via:
        values = list(via.read(via.parameter_substitution(names)))
        assert re.fullmatch(rf"PowerFlex 755 at 127\.0\.0\.1:{drive.address[1]}\[\d+\]", str(via))
    assert values[:5] == [[pytest.approx(789.01, rel=1e-6)], [pytest.approx(123.45, rel=1e-6)],
                          [pytest.approx(456.78, rel=1e-6)], [pytest.approx(987.65, rel=1e-6)], [1]]
    assert isinstance(values[0][0], float) and isinstance(values[4][0], int) and values[5] == ["PowerFlex 755"]
    assert values[6][6:] == ["PowerFlex 755", 3] and len(values[6]) == 8
    assert via.instance is via.identity and via.identity.product_name == "PowerFlex 755"


def test_writes_give_true_and_reach_the_device(via, drive):
    with via:
        assert list(via.write(via.parameter_substitution("Motor Velocity = (REAL)123.25"), checking=True)) == [True]
        assert list(via.read(via.parameter_substitution("Motor Velocity"))) == [[123.25]]
    assert drive["MOTOR_VELOCITY"] == 123.25
    drive["MOTOR_VELOCITY"] = 789.01


def test_a_cip_error_gives_none_or_raises_with_checking(via):
    with via:
        got = list(via.read(via.parameter_substitution(["Output Current", "@0x93/999/10"], pass_thru=True)))
        assert got[0] and got[1] is None
        with pytest.raises(CpppoError, match="@0x93/999/10"):
            list(via.read(via.parameter_substitution(["@0x93/999/10"], pass_thru=True), checking=True))


def test_values_are_read_when_reified_and_the_context_closes_the_gateway_on_failure(drive):
    via = powerflex_750_series(host="127.0.0.1", port=drive.address[1], timeout=5)
    lazy = via.read(via.parameter_substitution("Motor Velocity"))
    assert via.gateway is None  # nothing sent yet
    assert next(lazy)[0] == pytest.approx(789.01, rel=1e-6)
    with pytest.raises(RuntimeError), via:
        assert via.gateway is not None
        raise RuntimeError("the caller's own failure")
    assert via.gateway is None and str(via) == "None at None"  # closed: the next read reconnects
    assert list(via.read(via.parameter_substitution("Speed Units"))) == [[1]]
    via.close_gateway()


def test_identity_default_skips_list_identity(drive):
    via = proxy_simple("127.0.0.1", port=drive.address[1], identity_default="Something")
    assert str(via) == "Something at None"
    with via:
        assert str(via).startswith(f"Something at 127.0.0.1:{drive.address[1]}[")
    via2 = proxy_simple("127.0.0.1", port=drive.address[1], identity_default=dotdict(product_name="Other"))
    assert str(via2) == "Other at None"


def test_a_dead_device_raises_a_readable_error_and_reconnects_later():
    sim = powerflex_simulator()
    sim.start()
    port = sim.address[1]
    via = powerflex_750_series(host="127.0.0.1", port=port, timeout=1)
    assert list(via.read(via.parameter_substitution("Speed Units"))) == [[1]]
    sim.stop()
    with pytest.raises(CpppoError), via:
        list(via.read(via.parameter_substitution("Speed Units")))
    with pytest.raises(CpppoError, match="refused"):
        list(via.read(via.parameter_substitution("Speed Units")))
    again = powerflex_simulator(address=("127.0.0.1", port)).start()
    try:
        via.close_gateway()
        assert list(via.read(via.parameter_substitution("Speed Units"))) == [[1]]
    finally:
        via.close_gateway()
        again.stop()


def test_one_proxy_shared_by_threads(via):
    results, errors = [], []

    def reader(name):
        try:
            for _ in range(20):
                (value,) = via.read(via.parameter_substitution(name))
                results.append((name, value))
        except Exception as exc:  # collected: the test fails below, saying what
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(n,)) for n in ("Motor Velocity", "Speed Units", "Product Name")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 60
    assert {str(v) for n, v in results if n == "Speed Units"} == {"[1]"}
    assert {str(v) for n, v in results if n == "Product Name"} == {"['PowerFlex 755']"}


def test_proxy_simple_against_enip_server_dash_s_and_a_routing_proxy_with_tags():
    server = subprocess.Popen([sys.executable, "-m", "cpppo.server.enip", "-a", "127.0.0.1:0", "-S",
                               "VEL@0x93/3/10=REAL", "UNITS@0x93/300/10=DINT"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r"listening on \S+:(\d+)", server.stdout.readline()).group(1))
        via = powerflex_750_series("127.0.0.1", port=port, timeout=5)
        with via:
            assert list(via.write(via.parameter_substitution(["Motor Velocity = 2.5", "Speed Units = 7"]))) == [True, True]
            assert list(via.read(via.parameter_substitution(["Motor Velocity", "Speed Units"]))) == [[2.5], [7]]
        via.close_gateway()
    finally:
        server.terminate()
        server.communicate(timeout=10)
    with Simulator(["SCADA=INT[10]", "F@0x93/1/10=REAL"]) as plc:
        plc["F"] = 1.5
        logix = proxy("127.0.0.1", port=plc.address[1], route_path="1/0")
        with logix:
            got = list(logix.read(logix.parameter_substitution(
                ["SCADA[1]=(INT)5", "SCADA[0-2]", "Product Name"]) ))
            got += list(logix.read([("@0x93/1/10", "REAL")]))
        logix.close_gateway()
        assert got == [True, [0, 5, 0], ["1756-L61/B LOGIX5561"], [1.5]]
