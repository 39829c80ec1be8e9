"""Every store hook in memory: tests, simulations and embedding without a database.

May import `extend` (the hooks) and `domain`.
"""

from hod_core.stores.memory.memory_store import MemoryStore

__all__ = ["MemoryStore"]
