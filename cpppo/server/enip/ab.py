"""``cpppo.server.enip.ab``: Allen-Bradley devices by their parameters (PowerFlex drives).

A PowerFlex 750 exposes parameter N as attribute 10 of instance N of its class 0x93 (the DPI
Parameter object), so "Output Current" (parameter 7) is ``@0x93/7/10``, a REAL.  ``powerflex``
proxies a PowerFlex (a simple, non-routing device) with the identity and TCP/IP parameters every
proxy knows; ``powerflex_750_series`` adds the drive's own.  :data:`POWERFLEX_750_TAGS` serves
the same parameters from a simulator (``poll_test``, the fleet's ``powerflex`` kind).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ...client.proxy import parameter, proxy_simple
from ...device.objects import IdentityInfo

__all__ = ["POWERFLEX_750", "POWERFLEX_750_TAGS", "POWERFLEX_750_VALUES", "powerflex", "powerflex_750_series", "powerflex_fleet_kind"]


class powerflex(proxy_simple):  # the documented (lower-case) name
    """A PowerFlex drive: a simple CIP device reached by Get/Set Attribute Single."""

    PARAMETERS: ClassVar[dict[str, parameter]] = dict(proxy_simple.PARAMETERS)


def _p(number: int, kind: str, units: str | None) -> parameter:
    return parameter(f"@0x93/{number}/10", kind, units)


class powerflex_750_series(powerflex):  # the documented (lower-case) name
    """A PowerFlex 753/755: its parameters by name (P1 Output Frequency, P3 Mtr Vel Fdbk, ...)."""

    PARAMETERS: ClassVar[dict[str, parameter]] = dict(
        powerflex.PARAMETERS,
        output_frequency=_p(1, "REAL", "Hz"),
        output_freq=_p(1, "REAL", "Hz"),
        commanded_spdref=_p(2, "REAL", "Hz/RPM"),
        motor_velocity=_p(3, "REAL", "Hz/RPM"),
        mtr_vel_fdbk=_p(3, "REAL", "Hz/RPM"),
        commanded_trq=_p(4, "REAL", "%"),
        output_current=_p(7, "REAL", "Amps"),
        output_voltage=_p(8, "REAL", "VAC"),
        output_power=_p(9, "REAL", "kW"),
        output_powr_fctr=_p(10, "REAL", None),
        dc_bus_volts=_p(11, "REAL", "VDC"),
        dc_bus_memory=_p(12, "REAL", "VDC"),
        elapsed_mwh=_p(13, "REAL", "MWh"),
        elapsed_kwh=_p(14, "REAL", "kWh"),
        elapsed_run_time=_p(15, "REAL", "Hrs"),
        rated_volts=_p(20, "REAL", "VAC"),
        rated_amps=_p(21, "REAL", "Amps"),
        rated_kw=_p(22, "REAL", "kW"),
        speed_units=_p(300, "DINT", "Hz/RPM"),
    )


POWERFLEX_750 = IdentityInfo(vendor_id=1, device_type=0x7B, product_code=0x0900, revision=(11, 2),
                             status_word=0x0030, serial_number=0x2D1E0F01, product_name="PowerFlex 755",
                             state=3)
"""A PowerFlex 755's identity (device type 0x7B: a DPI drive)."""

_VALUES = {  # what the simulated drive reads as, first: the figures the documents print
    "motor_velocity": 789.01, "output_current": 123.45, "output_frequency": 456.78, "elapsed_kwh": 987.65,
    "speed_units": 1, "output_voltage": 460.0, "output_power": 55.5, "dc_bus_volts": 650.0,
    "dc_bus_memory": 648.0, "elapsed_mwh": 0.98765, "elapsed_run_time": 1234.5, "rated_volts": 480.0,
    "rated_amps": 140.0, "rated_kw": 75.0, "commanded_spdref": 789.01, "commanded_trq": 35.0,
    "output_powr_fctr": 0.88,
}


def _tags() -> tuple[list[str], dict[str, Any]]:
    """One simulator tag per drive parameter (each number once), and the values they start with."""
    tags, values, seen = [], {}, set()
    for name, param in powerflex_750_series.PARAMETERS.items():
        if not param.attribute.startswith("@0x93/") or param.attribute in seen:
            continue
        seen.add(param.attribute)
        number = int(param.attribute.split("/")[1])
        tags.append(f"{name.upper()}@0x93/{number}/10={param.types}")
        values[name.upper()] = _VALUES.get(name, 0)
    return tags, values


POWERFLEX_750_TAGS, POWERFLEX_750_VALUES = _tags()
"""``NAME@0x93/N/10=TYPE`` for every parameter of :class:`powerflex_750_series`, and each one's
first value (the figures the documents print: Motor Velocity 789.01, Output Current 123.45, ...)."""


def powerflex_fleet_kind() -> dict[str, Any]:
    """What ``enip_fleet`` builds a ``kind = "powerflex"`` device with."""
    return {"simple": True, "identity": POWERFLEX_750, "tags": lambda: list(POWERFLEX_750_TAGS),
            "values": dict(POWERFLEX_750_VALUES)}
