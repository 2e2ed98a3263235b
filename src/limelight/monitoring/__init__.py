"""Per-org monitoring of served models: request rollups persisted in the metadata store."""
