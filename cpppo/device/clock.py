"""The Wall Clock Time object (class 0x8B) of a Logix controller.

Attribute 6 (local time) and 11 (UTC) are microseconds since 1970 as a ULINT, attribute 10 the
daylight-saving flag.  Setting attribute 6 moves this controller's clock only: it keeps an offset
from the host's clock, so the simulated clock keeps running.
"""

from __future__ import annotations

import struct
import time

from ..cip.message import Request, encode_reply
from ..cip.services import CommonService
from ..cip.status import GeneralStatus as S
from ..cip.tag_services import AttributeValue, decode_attribute_list_request, encode_attribute_list_reply
from .failure import Failure

__all__ = ["WallClock"]

_ULINT = struct.Struct("<Q")
_UINT = struct.Struct("<H")


class WallClock:
    def __init__(self) -> None:
        self.offset_us = 0
        self.dst = 0

    def now_us(self) -> int:
        return int(time.time() * 1_000_000) + self.offset_us

    def request(self, req: Request) -> bytes:
        """Get Attribute List and Set Attribute List on instance 1."""
        now = self.now_us()
        values = {6: _ULINT.pack(now), 11: _ULINT.pack(now), 10: bytes((self.dst,))}
        if req.service == CommonService.GET_ATTRIBUTE_LIST:
            entries = [AttributeValue(a, 0, values[a]) if a in values else AttributeValue(a, S.ATTRIBUTE_NOT_SUPPORTED)
                       for a in decode_attribute_list_request(req.data)]
            failed = any(e.status for e in entries)
            return encode_reply(req.service, S.ATTRIBUTE_LIST_ERROR if failed else 0, (),
                                encode_attribute_list_reply(entries))
        if req.service == CommonService.SET_ATTRIBUTE_LIST:
            return encode_reply(req.service, 0, (), self._set(req.data, values))
        raise Failure(S.SERVICE_NOT_SUPPORTED)

    def _set(self, data: bytes, values: dict[int, bytes]) -> bytes:
        if len(data) < 2:
            raise Failure(S.NOT_ENOUGH_DATA)
        (count,) = _UINT.unpack_from(data, 0)
        at, out = 2, [_UINT.pack(count)]
        for _ in range(count):
            if at + 2 > len(data):
                raise Failure(S.NOT_ENOUGH_DATA)
            (attr,) = _UINT.unpack_from(data, at)
            at += 2
            size = len(values.get(attr, b""))
            if not size or attr == 11:  # UTC follows the local time; it is not set on its own
                out.append(struct.pack("<HH", attr, S.ATTRIBUTE_NOT_SETTABLE if size else S.ATTRIBUTE_NOT_SUPPORTED))
                break
            if at + size > len(data):
                raise Failure(S.NOT_ENOUGH_DATA)
            if attr == 6:
                (wanted,) = _ULINT.unpack_from(data, at)
                self.offset_us = wanted - int(time.time() * 1_000_000)
            else:
                self.dst = data[at]
            at += size
            out.append(struct.pack("<HH", attr, 0))
        return b"".join(out)
