"""``limelight generate`` (fill a prompt template and stream the answer) and ``limelight templates``
(add the built-in templates to an org through the normal upload path)."""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from limelight.cli.connection import ApiKeyOpt, JsonOpt, OrgOpt, UrlOpt, connect, org_of
from limelight.cli.inference import AliasOpt, VersionOpt
from limelight.cli.models import RefArg, model_ref
from limelight.cli.output import print_json, stderr

templates_app = typer.Typer(help="Prompt templates: the built-ins shipped with limelight.", no_args_is_help=True)


def _variables(pairs: list[str] | None) -> dict[str, str]:
    variables = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{pair!r} is not name=value", param_hint="--var")
        variables[name] = value
    return variables


def generate(
    ref: RefArg,
    var: Annotated[list[str] | None, typer.Option("--var", "-v", help="name=value; repeat for each variable")] = None,
    max_tokens: Annotated[int | None, typer.Option(min=1, help="at most this many tokens")] = None,
    temperature: Annotated[float | None, typer.Option(min=0.0, max=2.0, help="sampling temperature")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="same seed, same answer")] = None,
    midi: Annotated[Path | None, typer.Option(dir_okay=False, help="melody templates: write the MIDI here")] = None,
    audio: Annotated[Path | None, typer.Option(dir_okay=False, help="melody templates: write the WAV here")] = None,
    version: VersionOpt = None, alias: AliasOpt = None, org: OrgOpt = None, json_out: JsonOpt = False,
    url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Fill a prompt template's variables and print the generated text as it streams."""
    variables = _variables(var)
    options: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature, "seed": seed,
                               "version": version, "alias": alias}
    with connect(url, api_key) as client:
        model = model_ref(client, ref, org)
        if json_out:
            answer = client.generate(model, variables, **options)
        else:
            answer = _stream(client.generate_stream(model, variables, **options))
    _save_melody(answer.get("output"), midi, audio)
    if json_out:
        print_json(answer)


def _stream(events: Any) -> dict[str, Any]:
    end: dict[str, Any] = {}
    for event in events:
        if event["event"] == "delta":
            sys.stdout.write(event["text"])
            sys.stdout.flush()
        elif event["event"] == "end":
            end = event
    sys.stdout.write("\n")
    note = f"{end.get('finish_reason')}, {end.get('completion_tokens')} tokens"
    if end.get("output_error"):
        note += f"; output: {end['output_error']['message']}"
    stderr().print(f"[dim]{note}[/dim]")
    return end


def _save_melody(output: Any, midi: Path | None, audio: Path | None) -> None:
    for path, field, what in ((midi, "midi_base64", "MIDI"), (audio, "audio_base64", "audio")):
        if path is None:
            continue
        data = output.get(field) if isinstance(output, dict) else None
        if not data:
            reason = output.get("audio_unavailable") if isinstance(output, dict) else None
            stderr().print(f"[yellow]No {what} in this answer{': ' + reason if reason else ''}.[/yellow]")
            continue
        path.write_bytes(base64.b64decode(data))
        stderr().print(f"[dim]{what} written to {path}[/dim]")


@templates_app.command("add-builtins")
def add_builtins(
    name: Annotated[list[str] | None, typer.Argument(help="which built-ins (default: all)")] = None,
    public: Annotated[bool, typer.Option("--public", help="list them in the marketplace for every org")] = False,
    base_model: Annotated[str | None, typer.Option(help="org/name of an llm model to generate with "
                                                        "(default: each loads the bundled SmolLM2)")] = None,
    org: OrgOpt = None, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Upload built-in templates (logline, melody, …) as models of the org, version 1 in production."""
    from limelight.errors import AlreadyExists
    from limelight.generation.builtin_templates import (
        BUILTIN_TEMPLATES,
        builtin_template_bytes,
        with_base_model,
    )

    with connect(url, api_key) as client:
        owner = org_of(client, org)
        for template in name or list(BUILTIN_TEMPLATES):
            raw = with_base_model(builtin_template_bytes(template), base_model)
            try:
                client.models.create(owner, template, "generate", tags=["template", "builtin"],
                                     visibility="public" if public else "private")
            except AlreadyExists:
                stderr().print(f"[dim]{owner}/{template} exists: skipped[/dim]")
                continue
            version = client.models.upload_version(owner, template, io.BytesIO(raw), {"runtime": "prompt-template"})
            client.models.set_alias(owner, template, "production", version.version)
            stderr().print(f"{owner}/{template} version {version.version}")


def register(app: typer.Typer) -> None:
    app.command()(generate)
    app.add_typer(templates_app, name="templates")
