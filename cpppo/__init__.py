"""cpppo: communication protocols for industrial control systems.

EtherNet/IP CIP (a simulated Logix controller and its client), Modbus remote I/O, and the
state-machine library the documents describe.  The wire codecs live in :mod:`cpppo.cip` and
:mod:`cpppo.enip`; the documented entry points (``cpppo.server.enip``, ``cpppo.remote``) are thin
modules over them.
"""

from __future__ import annotations

__version__ = "6.0.0.dev0"

__all__ = ["__version__"]
