"""``limelight orgs quota show|set``: an org's monthly quotas, what is used and what remains."""

from __future__ import annotations

from enum import StrEnum
from operator import itemgetter
from typing import Annotated

import typer

from limelight.cli.connection import ApiKeyOpt, JsonOpt, UrlOpt, connect
from limelight.cli.output import print_json, print_table, stdout
from limelight.schemas.metering import OrgQuotas

quota_app = typer.Typer(help="Monthly quotas of an organization: requests, compute seconds, storage.",
                        no_args_is_help=True)
OrgArg = Annotated[str, typer.Argument(help="the organization's name")]


class QuotaName(StrEnum):
    requests_per_month = "requests-per-month"
    compute_seconds_per_month = "compute-seconds-per-month"
    storage_bytes = "storage-bytes"


@quota_app.command("show")
def quota_show(org: OrgArg, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """The org's quotas, what this UTC month used, what remains and when it resets (any member)."""
    with connect(url, api_key) as client:
        _show(client.orgs.quotas(org), json_out)


@quota_app.command("set")
def quota_set(
    org: OrgArg,
    requests_per_month: Annotated[int | None, typer.Option(min=0, help="inference requests per month")] = None,
    compute_seconds_per_month: Annotated[float | None, typer.Option(min=0, help="job wall seconds per month")] = None,
    storage_bytes: Annotated[int | None, typer.Option(min=0, help="bytes of model and dataset files stored")] = None,
    unlimited: Annotated[list[QuotaName] | None, typer.Option(
        "--unlimited", help="remove this quota (repeat for several)")] = None,
    json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Set the org's quotas (system admins); quotas not named keep their current value."""
    given = {"requests_per_month": requests_per_month, "compute_seconds_per_month": compute_seconds_per_month,
             "storage_bytes": storage_bytes}
    with connect(url, api_key) as client:
        limits = client.orgs.quotas(org).limits.model_dump()
        limits.update({name: value for name, value in given.items() if value is not None})
        limits.update({name.name: None for name in unlimited or []})
        _show(client.orgs.set_quotas(org, **limits), json_out)


def _show(quotas: OrgQuotas, json_out: bool) -> None:
    if json_out:
        print_json(quotas)
        return
    rows = [(name.value, *(_amount(getattr(amounts, name.name)) for amounts in
                           (quotas.limits, quotas.used, quotas.remaining))) for name in QuotaName]
    print_table(rows, [(header, itemgetter(i)) for i, header in enumerate(("quota", "limit", "used", "remaining"))],
                title=f"Quotas of {quotas.org}")
    stdout().print(f"The monthly quotas reset at {quotas.resets_at.isoformat()}.")


def _amount(value: float | None) -> str:
    return "unlimited" if value is None else f"{value:g}"
