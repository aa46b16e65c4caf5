"""SQL of the identity schema (the pool's search_path): one module per concept, one function per statement."""

from . import accounts, audit, budgets, keys, locks, qr, registrations, sessions, throttles, verification

__all__ = ["accounts", "audit", "budgets", "keys", "locks", "qr", "registrations", "sessions", "throttles",
           "verification"]
