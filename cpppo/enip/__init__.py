"""The EtherNet/IP encapsulation codec: frames, the TCP framer, and Common Packet Format items.

Pure functions and frozen dataclasses over bytes: nothing here opens a socket.
"""

from __future__ import annotations

from .cpf import SendData, decode_cpf, decode_send_data, encode_cpf
from .encapsulation import Command, EncapStatus, Encapsulation, decode_frame
from .framer import Framer

__all__ = [
    "Command",
    "EncapStatus",
    "Encapsulation",
    "Framer",
    "SendData",
    "decode_cpf",
    "decode_frame",
    "decode_send_data",
    "encode_cpf",
]
