"""pylogix's Discover broadcasts List Identity to 255.255.255.255; our simulator answers it.

A broadcast must not leave this machine, so the test runs in a private network namespace
(``unshare -rn``) whose only interface is loopback, with the limited-broadcast route on it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import subprocess
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "route", "add", "255.255.255.255", "dev", "lo"], check=True)
    from pylogix import PLC
    from cpppo.server.enip import Simulator
    with Simulator(["X=DINT"], address=("0.0.0.0", 0), identity={"product_name": "CPPPO DISCOVER TEST"}) as sim:
        client = PLC("127.0.0.1", port=sim.address[1])
        found = client.Discover()
        print(found.Status, sorted({(d.IPAddress, d.ProductName) for d in found.Value}))
""")


def test_pylogix_discover_finds_the_simulator_by_broadcast():
    assert shutil.which("unshare") and shutil.which("ip"), "this test needs unshare and ip (util-linux, iproute2)"
    result = subprocess.run(["unshare", "-rn", sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    # pylogix asks once per address of this host, so the one device may answer more than once
    assert result.stdout.strip() == "Success [('127.0.0.1', 'CPPPO DISCOVER TEST')]"
