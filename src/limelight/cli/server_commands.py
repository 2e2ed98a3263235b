"""Commands that run on the server machine itself: serve, worker, init, gc, dev-cert, db upgrade."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from limelight.cli.server_settings import load_settings_or_exit

console = Console(stderr=True)
db_app = typer.Typer(help="Metadata database maintenance.", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option(help="interface to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (default 8000)")] = None,
    workers: Annotated[int | None, typer.Option(help="API processes sharing the port")] = None,
    job_workers: Annotated[int | None, typer.Option(help="job worker processes to start alongside")] = None,
    demo: Annotated[bool, typer.Option(help="initialise a demo org with data and a trained recommender")] = False,
    ssl_certfile: Annotated[Path | None, typer.Option(
        help="PEM certificate: serve HTTPS, and gRPC over TLS with the same certificate")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="PEM private key of --ssl-certfile")] = None,
    forwarded_allow_ips: Annotated[str | None, typer.Option(
        help="comma-separated addresses of the proxy in front (or '*'): trust its X-Forwarded-* headers "
             "and allow plain HTTP from it in production mode")] = None,
) -> None:
    """Run the API, the web console and a local job-worker pool (HTTPS with --ssl-certfile/--ssl-keyfile)."""
    import uvicorn

    from limelight.server.transport import TransportRefused, check_transport, uvicorn_transport_options
    from limelight.serving.shedding import PROTOCOL
    from limelight.workers.pool import WorkerPool

    # Through the environment, so every API process of --workers N reads the same settings.
    overrides = {"host": host, "port": port, "workers": workers, "ssl_certfile": ssl_certfile,
                 "ssl_keyfile": ssl_keyfile, "forwarded_allow_ips": forwarded_allow_ips}
    for key, value in overrides.items():
        if value is not None:
            os.environ[f"LIMELIGHT_SERVER__{key.upper()}"] = str(value)
    if job_workers is not None:
        os.environ["LIMELIGHT_WORKER__PROCESSES"] = str(job_workers)
    settings = load_settings_or_exit()
    try:
        check_transport(settings)
    except TransportRefused as exc:
        console.print(f"[red]refusing to start: {escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    _check_artifact_store_or_exit(settings.artifacts_url)
    _upgrade(settings.database_url)
    if demo:
        from limelight.demo.setup import prepare_demo
        from limelight.workers.loop import run_worker

        prepare_demo(settings, console, lambda s: run_worker(s, max_jobs=1, install_signals=False))
    pool = WorkerPool(settings)
    pool.start()
    # uvicorn re-raises the SIGTERM it handled once it has shut down; turning that into SystemExit
    # lets the `finally` below stop the job workers instead of the process dying around them.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        uvicorn.run(
            "limelight.server.asgi:app_from_env", factory=True, host=settings.server.host,
            port=settings.server.port, workers=settings.server.workers, loop="uvloop", http=PROTOCOL,
            access_log=False, log_level="warning", timeout_graceful_shutdown=int(settings.server.graceful_shutdown_s),
            **uvicorn_transport_options(settings),
        )
    finally:
        pool.stop()


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _check_artifact_store_or_exit(url: str) -> None:
    """Open the artifact store once before anything starts: an unreachable bucket is one clear line."""
    from limelight.artifacts import open_store
    from limelight.errors import LimelightError

    try:
        open_store(url)
    except LimelightError as exc:
        console.print(f"[red]refusing to start: {escape(exc.message)}[/red]")
        raise typer.Exit(2) from None


def dev_cert(
    out: Annotated[Path | None, typer.Option(help="folder for cert.pem and key.pem (default: HOME/tls)")] = None,
) -> None:
    """Write a self-signed certificate and key for 127.0.0.1, ::1 and localhost, to try TLS locally."""
    from limelight.server.dev_cert import write_dev_cert

    written = write_dev_cert(out if out is not None else load_settings_or_exit().home / "tls")
    console.print(f"certificate: {written.certfile}\nprivate key: {written.keyfile} (mode 0600)")
    console.print(f"serve with: limelight serve --ssl-certfile {written.certfile} --ssl-keyfile {written.keyfile}")
    console.print(f"clients trust it with: SSL_CERT_FILE={written.certfile}")


def worker() -> None:
    """Run one job worker in the foreground (claims jobs with a lease, heartbeats while running)."""
    from limelight.workers.loop import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings_or_exit()
    _check_artifact_store_or_exit(settings.artifacts_url)
    _check_database_or_exit(settings.database_url)  # the API applies migrations; a worker only connects
    run_worker(settings)


def init(
    org: Annotated[str, typer.Option(help="name of the first organization")] = "studio",
    username: Annotated[str, typer.Option(help="the first admin user")] = "admin",
    password: Annotated[str | None, typer.Option(help="admin password (prompted when absent)")] = None,
    quiet: Annotated[bool, typer.Option(help="print only the API key")] = False,
) -> None:
    """Create the first org, admin user and admin API key on an empty install; print the key once."""
    from limelight.db.session import open_database
    from limelight.errors import LimelightError
    from limelight.orgs.bootstrap import initialize

    settings = load_settings_or_exit()
    _upgrade(settings.database_url)
    if password is None:
        password = typer.prompt("Admin password (10+ characters)", hide_input=True, confirmation_prompt=True)
    db = open_database(settings.database_url)
    try:
        done = initialize(db, org=org, username=username, password=password)
    except LimelightError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    finally:
        db.dispose()
    if not quiet:
        console.print(f"Created org [bold]{done.org}[/bold] and admin [bold]{done.username}[/bold].")
        console.print("Your admin API key (shown once, store it now):")
    print(done.api_key)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration up to head."""

    settings = load_settings_or_exit()
    revision = _upgrade(settings.database_url)
    console.print(f"database at revision {revision}")


def _upgrade(url: str) -> str | None:
    """Apply the migrations; a database that cannot be reached is one clear line naming the setting."""
    from sqlalchemy.exc import OperationalError

    from limelight.db.migrate import current_revision, upgrade
    from limelight.db.session import open_database

    db = open_database(url)
    try:
        upgrade(db)
        return current_revision(db)
    except OperationalError as exc:
        _refuse_database(url, exc)
    finally:
        db.dispose()


def _check_database_or_exit(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from limelight.db.session import open_database

    db = open_database(url)
    try:
        with db.read_engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        _refuse_database(url, exc)
    finally:
        db.dispose()


def _refuse_database(url: str, exc: Exception) -> NoReturn:
    reason = _first_line(getattr(exc, "orig", None) or exc)
    console.print(f"[red]refusing to start: cannot reach the database of LIMELIGHT_DATABASE_URL "
                  f"({escape(_redacted(url))}): {escape(reason)}[/red]")
    raise typer.Exit(2) from None


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as its scheme only
        return url.split(":", 1)[0] + "://…"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def register(app: typer.Typer) -> None:
    from limelight.cli.gc import gc

    app.command()(serve)
    app.command()(gc)
    app.command()(worker)
    app.command()(init)
    app.command("dev-cert")(dev_cert)
    app.add_typer(db_app, name="db")


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `limelight`")
