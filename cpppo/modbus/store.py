"""A sparse Modbus data store: only configured addresses exist, as in a real device's map.

Each of the four tables is a ``dict`` from 0-based offset to value, so a device with a few
registers at 40001 and 465536 costs a few entries, and validating a request of V registers costs
O(V) lookups (pymodbus 1.x's sparse block walked all N keys per request).  Reading or writing an
address that was never configured answers Modbus exception 2 (illegal data address); the bit
tables hold 0/1.  The store does no I/O and knows nothing of pymodbus; see
:mod:`cpppo.modbus.server` for the glue.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence

from .address import RegisterSpec, Table
from .codes import ExceptionCode
from .errors import ModbusUsageError

__all__ = ["ILLEGAL_ADDRESS", "DataStore", "SparseBlock"]

ILLEGAL_ADDRESS = ExceptionCode.ILLEGAL_DATA_ADDRESS


class DataStore:
    """The four tables of one Modbus unit.  Thread safe: the simulator serves from a thread."""

    def __init__(self, specs: Iterable[RegisterSpec] = ()) -> None:
        self._tables: dict[Table, dict[int, int]] = {table: {} for table in Table}
        self._lock = threading.Lock()
        for spec in specs:
            self.define_spec(spec)

    def define(self, table: Table, offset: int, values: Sequence[int]) -> None:
        """Create (or overwrite) addresses ``offset..`` in ``table`` with ``values``."""
        if offset < 0 or offset + len(values) > 0x10000:
            raise ModbusUsageError(f"{table.name} {offset}+{len(values)} is outside 0-65535")
        cells = self._tables[table]
        with self._lock:
            for i, value in enumerate(values):
                cells[offset + i] = _checked(table, value)

    def define_spec(self, spec: RegisterSpec) -> None:
        """Create the addresses of a parsed register spec; its values, or 0 where none given."""
        words = spec.raw_values() if spec.values is not None else [0] * spec.width
        self.define(spec.table, spec.offset, words)

    def read(self, table: Table, offset: int, count: int) -> list[int] | int:
        """Return ``count`` values, or the Modbus exception code 2 if any address is missing."""
        cells = self._tables[table]
        with self._lock:
            try:
                return [cells[offset + i] for i in range(count)]
            except KeyError:
                return ILLEGAL_ADDRESS

    def write(self, table: Table, offset: int, values: Sequence[int]) -> int | None:
        """Store ``values``; all or nothing.  Return exception code 2 if any address is missing."""
        cells = self._tables[table]
        with self._lock:
            if any(offset + i not in cells for i in range(len(values))):
                return ILLEGAL_ADDRESS
            for i, value in enumerate(values):
                cells[offset + i] = _checked(table, value)
        return None

    def offsets(self, table: Table) -> list[int]:
        """The configured offsets of ``table``, sorted."""
        with self._lock:
            return sorted(self._tables[table])

    @classmethod
    def from_blocks(cls, *, co: SparseBlock | None = None, di: SparseBlock | None = None,
                    hr: SparseBlock | None = None, ir: SparseBlock | None = None) -> DataStore:
        """A store holding the addresses of per-table blocks (pymodbus's ``co``/``di``/``hr``/``ir``
        keywords); tables without a block have no addresses at all."""
        store = cls()
        for table, block in ((Table.COILS, co), (Table.DISCRETE_INPUTS, di),
                             (Table.HOLDING_REGISTERS, hr), (Table.INPUT_REGISTERS, ir)):
            if block is not None:
                store._tables[table] = {offset: _checked(table, v) for offset, v in block.values.items()}
        return store

    def copy(self) -> DataStore:
        """An independent store with the same contents (each unit id gets its own)."""
        other = DataStore()
        with self._lock:
            for table, cells in self._tables.items():
                other._tables[table] = dict(cells)
        return other


def _checked(table: Table, value: int) -> int:
    number = int(value)
    if table.is_bits:
        return 1 if number else 0
    if not 0 <= number <= 0xFFFF:
        raise ModbusUsageError(f"{value!r} does not fit a 16-bit register")
    return number


class SparseBlock:
    """One table's addresses and values, for callers that build a device table by table.

    The documented ``modbus_sparse_data_block``: cpppo 5 fixed pymodbus 1.x's sparse block, which
    guessed its base address wrongly and walked every address to validate a request.  Here the base
    is the lowest address given, :meth:`validate` costs O(count), and an address never given does
    not exist.  ``values`` is ``{address: value}`` or a sequence (addresses 0, 1, ...); addresses
    are the 0-based offsets on the wire.  ``DataStore.from_blocks`` serves blocks.
    """

    def __init__(self, values: Mapping[int, int] | Sequence[int] | None = None) -> None:
        if values is None:
            values = {}
        elif not isinstance(values, Mapping):
            values = dict(enumerate(values))
        self.values: dict[int, int] = {}
        for address, value in values.items():
            if not 0 <= int(address) <= 0xFFFF:
                raise ModbusUsageError(f"address {address!r} is outside 0-65535")
            self.values[int(address)] = int(value)
        self.lock = threading.Lock()

    @property
    def address(self) -> int:
        """The base address: the lowest one given (0 for an empty block)."""
        return min(self.values, default=0)

    def validate(self, address: int, count: int = 1) -> bool:
        """Whether every address in ``address .. address+count-1`` exists (``count`` >= 1)."""
        if count < 1:
            return False
        cells = self.values
        return all(address + i in cells for i in range(count))

    def getValues(self, address: int, count: int = 1) -> list[int]:
        """The values at ``address ..``; a missing address raises ModbusUsageError."""
        with self.lock:
            if not self.validate(address, count):
                raise ModbusUsageError(f"addresses {address}+{count} are not all defined")
            return [self.values[address + i] for i in range(count)]

    def setValues(self, address: int, values: int | Sequence[int]) -> None:
        """Store ``values`` from ``address``; all must exist (nothing is stored otherwise)."""
        seq = [values] if isinstance(values, int) else list(values)
        with self.lock:
            if not self.validate(address, len(seq)):
                raise ModbusUsageError(f"addresses {address}+{len(seq)} are not all defined")
            for i, value in enumerate(seq):
                self.values[address + i] = int(value)
