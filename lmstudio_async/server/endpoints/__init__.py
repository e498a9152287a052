"""Endpoint handlers, one module per namespace (PROTOCOL.md 6)."""
