"""Every command that talks to a limelight server through `limelight.client` (never to the DB directly)."""

from __future__ import annotations

import typer

from limelight.cli import (
    audit,
    datasets,
    deployments,
    experiments,
    generate,
    inference,
    jobs,
    models,
    scoring,
    tenancy,
)


def register(app: typer.Typer) -> None:
    """Add the client-side groups and commands to the root ``limelight`` app."""
    for module in (tenancy, datasets, jobs, models, deployments, experiments, audit, inference, generate, scoring):
        module.register(app)
