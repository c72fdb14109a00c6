"""Fiscal context: NFS-e issuance (see docs/fiscal-wire.md for the wire side)."""
