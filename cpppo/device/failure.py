"""The one way a request fails inside the simulated controller: with a CIP status to answer."""

from __future__ import annotations

__all__ = ["Failure"]


class Failure(Exception):
    """The request fails with general ``status`` and extended status words ``ext``."""

    def __init__(self, status: int, ext: tuple[int, ...] = ()) -> None:
        super().__init__(f"CIP status 0x{status:02X} {ext}")
        self.status = status
        self.ext = ext
