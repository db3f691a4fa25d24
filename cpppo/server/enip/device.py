"""The documented customization point: subclass :class:`Attribute` to intercept tag I/O.

``__getitem__``/``__setitem__`` receive an index or a slice (``_validate_key(key)`` says which);
return a list for a slice, a value for an index.  Pass the subclass as
``cpppo.server.enip.main.main(attribute_class=...)``.
"""

from __future__ import annotations

from ...device.tags import Attribute

__all__ = ["Attribute"]
