"""``python -m cpppo.server.enip.poll_test [-a ADDRESS]``: a simulated PowerFlex 750 drive.

A simple (non-routing) CIP device answering Get/Set Attribute Single on the drive's parameters
(``@0x93/N/10``), starting with the values the documents print (Motor Velocity 789.01, Output
Current 123.45, Output Frequency 456.78, Elapsed kWh 987.65, Speed Units 1) and accepting
writes; poll it with ``poll_example``, write it with ``powerflex_motor_velocity``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from ...cli import UsageParser, console_entry, logging_to
from .ab import POWERFLEX_750, POWERFLEX_750_TAGS, POWERFLEX_750_VALUES
from .config import ConfigError, parse_address
from .embedded import Simulator

__all__ = ["main", "powerflex_simulator", "run"]


def powerflex_simulator(address: tuple[str, int] = ("127.0.0.1", 0), **kwds: object) -> Simulator:
    """A Simulator of a PowerFlex 750 (not started)."""
    sim = Simulator(POWERFLEX_750_TAGS, identity=POWERFLEX_750, address=address, simple=True,
                    name="PowerFlex", **kwds)  # type: ignore[arg-type]
    for tag, value in POWERFLEX_750_VALUES.items():
        sim[tag] = value
    return sim


def main(argv: Sequence[str] | None = None, *, stop: Callable[[], bool] | None = None) -> int:
    ap = UsageParser(prog="poll_test", description="Simulate a PowerFlex 750 drive (a simple CIP device).")
    ap.add_argument("-a", "--address", default="", help="[interface][:port] to bind (default: all, 44818)")
    ap.add_argument("-v", "--verbose", action="count", default=0, help="more logging (repeat for more)")
    args = ap.parse_args(argv)
    try:
        address = parse_address(args.address)
        sim = powerflex_simulator(address)
    except ConfigError as exc:
        print(f"{ap.prog}: error: {exc}", file=sys.stderr)
        return 2

    def ready(bound: tuple[str, int]) -> None:
        print(f"PowerFlex 750 simulator listening on {address[0] or '*'}:{bound[1]} (a simple CIP device: "
              f"Get/Set Attribute of @0x93/<parameter>/10)", flush=True)

    with logging_to(args.verbose, None):
        try:
            sim.serve_forever(stop=stop, ready=ready)
        except OSError as exc:
            print(f"{ap.prog}: error: cannot listen on {args.address or '*'}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            pass
    return 0


run = console_entry(main)

if __name__ == "__main__":
    run()
