"""limelight: self-hosted model-as-a-service for entertainment data."""

__version__ = "0.1.0"
