"""``python -m cpppo.server.enip``: run the simulator."""

from .main import run

run()
