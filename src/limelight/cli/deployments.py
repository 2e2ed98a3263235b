"""``limelight deployments set|show``: how a model is served."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from limelight.cli.connection import ApiKeyOpt, JsonOpt, OrgOpt, UrlOpt, connect
from limelight.cli.models import RefArg, owner_and_name
from limelight.cli.output import print_json, print_record, stdout
from limelight.schemas.registry import DeploymentRead

deployments_app = typer.Typer(help="How a model is served: routes over versions, batching, limits.",
                              no_args_is_help=True)


def parse_route(raw: str) -> dict[str, float]:
    """``VERSION[:WEIGHT]``, weight 100 when absent."""
    version, _, weight = raw.partition(":")
    try:
        return {"version": int(version), "weight": float(weight) if weight else 100.0}
    except ValueError as exc:
        raise typer.BadParameter(f"{raw!r} is not VERSION[:WEIGHT]", param_hint="--route") from exc


@deployments_app.command("set")
def deployments_set(
    ref: RefArg,
    route: Annotated[list[str], typer.Option("--route", "-r", help="VERSION or VERSION:WEIGHT (weight 100 if absent); repeat to split traffic")],
    shadow: Annotated[str | None, typer.Option(help="VERSION or VERSION:WEIGHT also called; its answers are discarded")] = None,
    max_batch_size: Annotated[int | None, typer.Option(min=1, max=1024, help="requests batched together")] = None,
    max_wait_ms: Annotated[float | None, typer.Option(min=0, max=1000, help="wait to fill a batch")] = None,
    max_queue: Annotated[int | None, typer.Option(min=1, help="queued requests before 503")] = None,
    timeout_ms: Annotated[int | None, typer.Option(min=10, help="per-request deadline")] = None,
    org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Set (replace) how a model is served; options left out take the server's defaults."""
    spec: dict[str, Any] = {"routes": [parse_route(r) for r in route]}
    spec.update({k: v for k, v in {"shadow": parse_route(shadow) if shadow else None, "max_batch_size": max_batch_size,
                                   "max_wait_ms": max_wait_ms, "max_queue": max_queue,
                                   "timeout_ms": timeout_ms}.items() if v is not None})
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, org)
        deployment = client.deployments.put(owner, name, spec)
    _show_deployment(deployment, json_out)


@deployments_app.command("show")
def deployments_show(ref: RefArg, org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None,
                     api_key: ApiKeyOpt = None) -> None:
    """How a model is served now."""
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, org)
        deployment = client.deployments.get(owner, name)
    _show_deployment(deployment, json_out)


@deployments_app.command("delete")
def deployments_delete(ref: RefArg, org: OrgOpt = None, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Remove a model's deployment: calls go to its production alias again, else to the latest version."""
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, org)
        client.deployments.delete(owner, name)
    stdout().print(f"Deployment of {owner}/{name} removed; calls go to production (else the latest version).")


def _show_deployment(deployment: DeploymentRead, json_out: bool) -> None:
    if json_out:
        print_json(deployment)
        return
    routes = ", ".join(f"v{r.version} weight {r.weight:g}" for r in deployment.routes)
    shadow = f"v{deployment.shadow.version} weight {deployment.shadow.weight:g}" if deployment.shadow else None
    print_record([("routes", routes), ("shadow", shadow), ("sticky field", deployment.sticky_field),
                  ("max batch size", deployment.max_batch_size), ("max wait ms", deployment.max_wait_ms),
                  ("max queue", deployment.max_queue), ("timeout ms", deployment.timeout_ms),
                  ("updated", deployment.updated_at)], title=f"Deployment {deployment.org}/{deployment.model}")


def register(app: typer.Typer) -> None:
    app.add_typer(deployments_app, name="deployments")
