"""Shared between the device and the server: wire protocol, domain model, normalization,
matching keys, field encryption, the sync client, and (under sync/server/) the central endpoint."""
