"""`limelight serve --demo`: a demo org with a synthetic catalog and audience, a trained,
promoted recommender, the built-in prompt templates and a support assistant answering from the
shipped Reelwave help centre, prepared before the server starts (idempotent: each is skipped
once done).

The admin password and API key are shown once and, in dev mode only, kept in
``$LIMELIGHT_HOME/demo-credentials.txt`` (mode 0600) so a returning user can sign in again.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
from rich.console import Console

from limelight.auth.principal import Principal
from limelight.config import Settings
from limelight.datasets import service as datasets
from limelight.db.session import Database, open_database
from limelight.demo.llm import ensure_llm
from limelight.orgs import repository as org_repo
from limelight.orgs.bootstrap import initialize
from limelight.schemas.datasets import DatasetKind
from limelight.schemas.jobs import JobCreate, JobRead
from limelight.schemas.registry import ModelUpdate, RetrainPolicy
from limelight.schemas.tenancy import Role, Scope

DEMO_ORG = "demo"
DEMO_MODEL = "movies"
DEMO_ASSISTANT = "support"
DEMO_CHURN_MODEL = "churn"
DEMO_CHURN_FRACTION = 0.2
ASSISTANT_CARD = """# Reelwave support assistant

Answers customers' questions from the 45 articles of the (fictional) Reelwave help centre, the
`help-center` dataset, uploaded as a zip of Markdown files. Trained by `assistant/rag`: passages
retrieved by BM25 + MiniLM, answered by SmolLM2-135M-Instruct from those passages only.

* **Input:** `{"question": "How do I reset my password?", "k": 3}`
* **Output:** `answer`, `citations` (article id, title, passage, score) and `abstained`: when the
  help centre does not hold the answer, it says so instead of guessing
"""
CARD = """# Movies for you

A recommender trained by `recommend/auto` on the demo audience's views, plays and ratings of a
synthetic catalog of 3,000 titles. It is retrained after every 500 new events and promoted only
when its validation NDCG@10 does not drop.

* **Input:** `user_id`, `k`, optional `filters` (`genres`, `year` range, `exclude_item_ids`)
* **Output:** titled items with scores; `:explain` says which watched titles drove each one
"""

CHURN_CARD = """# Who is about to leave

Trained by `predict-behaviour/churn` on the demo audience's views: the probability that a viewer
has no activity in the next 30 days, calibrated, with the reasons in words. Part of the audience
fades out and stops, as real audiences do.

* **Input:** `{"user_id": "u00042"}` (or `user_ids`); `:score` ranks every viewer
* **Output:** `probability`, `reasons` ("no activity for 45 days (typical: 6)"), `no_history`
"""


def prepare_demo(settings: Settings, console: Console, run_one_job: Callable[[Settings], object]) -> None:
    """The demo org, its data and models, trained once; ``run_one_job`` runs the next queued job to
    its end in this process (the CLI passes the worker loop: the demo knows nothing of workers)."""
    db = open_database(settings.database_url)
    try:
        with db.transaction(write=False) as session:
            fresh = org_repo.count_users(session) == 0
        if fresh:
            _create_tenant(settings, db, console)
        principal = _demo_principal(db)
        if principal is None:
            console.print("[yellow]This install already has users but no demo org; starting without a demo.[/]")
            return
        _ensure_trained(settings, db, principal, console, run_one_job)
        _ensure_churn_model(settings, db, principal, console, run_one_job)
        ensure_llm(settings, db, principal, console)
        _ensure_templates(settings, db, principal, console)  # after the llm: they generate with it
        _ensure_assistant(settings, db, principal, console, run_one_job)
        _show_credentials(settings, console)
    finally:
        db.dispose()


def _create_tenant(settings: Settings, db: Database, console: Console) -> None:
    password = secrets.token_urlsafe(12)
    done = initialize(db, org=DEMO_ORG, username="admin", password=password)
    text = f"url: http://{settings.server.host}:{settings.server.port}\nusername: admin\npassword: {password}\n" \
           f"org: {DEMO_ORG}\napi key: {done.api_key}\n"
    if settings.mode == "dev":
        path = settings.home / "demo-credentials.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
    console.print("[bold green]Demo org created.[/] Sign-in details (shown once):")
    console.print(text, soft_wrap=True)  # never a line break inside the key: it is copied by hand


def _demo_principal(db: Database) -> Principal | None:
    with db.transaction(write=False) as session:
        org = org_repo.org_by_name(session, DEMO_ORG)
        user = org_repo.user_by_name(session, "admin")
        if org is None or user is None:
            return None
        return Principal(user_id=user.id, username=user.username, org_id=org.id, org_name=org.name,
                         role=Role.owner, scopes=frozenset(Scope), is_admin=user.is_admin, request_id="demo")


def _has_version(db: Database, principal: Principal, model_name: str) -> bool:
    from limelight.registry import repository as registry_repo

    with db.transaction(write=False) as session:
        model = registry_repo.model_by_name(session, principal.org_id, model_name)
        return model is not None and model.latest_version > 0


def _train_now(settings: Settings, db: Database, principal: Principal, console: Console,
               run_one_job: Callable[[Settings], object], job: JobCreate, card: ModelUpdate) -> JobRead | None:
    """Runs one training job to its end in this process and dresses the model with ``card``; the
    finished job, or None (said on the console) when it did not succeed."""
    from limelight.jobs import service as jobs
    from limelight.registry import service as registry

    with db.transaction() as session:
        submitted = jobs.submit(session, principal, DEMO_ORG, job)
    run_one_job(settings)
    with db.transaction() as session:
        finished = jobs.get(session, principal, DEMO_ORG, submitted.id)
        if finished.state != "succeeded":
            console.print(f"[red]Demo training of {job.model} {finished.state}: {finished.error}[/]")
            return None
        registry.update_model(session, principal, DEMO_ORG, job.model, card)
    return finished


def _ensure_trained(settings: Settings, db: Database, principal: Principal, console: Console,
                    run_one_job: Callable[[Settings], object]) -> None:
    from limelight.artifacts.registry import open_store
    from limelight.jobs import retrain

    if _has_version(db, principal, DEMO_MODEL):
        return
    started = time.monotonic()
    console.print("Generating a demo catalog (3,000 titles) and audience (2,000 viewers)…")
    _upload_synthetic(db, open_store(settings.artifacts_url), principal)
    console.print("Training recommend/auto (popularity, item-kNN, ALS, BPR, EASE; tuned on a validation split)…")
    finished = _train_now(settings, db, principal, console, run_one_job, JobCreate(
        recipe="recommend/auto", dataset="views", items_dataset="titles", model=DEMO_MODEL, promote="production",
        params={"time_budget_s": 25}), ModelUpdate(card=CARD, tags=["movies", "demo"], description="Demo recommender"))
    if finished is None:
        return
    with db.transaction() as session:
        retrain.set_policy(session, principal, DEMO_ORG, DEMO_MODEL, RetrainPolicy(
            recipe="recommend/als", dataset="views", items_dataset="titles", after_events=500))
    summary = finished.result.get("summary", {})
    console.print(f"Trained in {time.monotonic() - started:.0f}s: winner [bold]{summary.get('winner')}[/], "
                  f"ndcg@10 {finished.result['metrics'].get('ndcg@10')}")


def _ensure_churn_model(settings: Settings, db: Database, principal: Principal, console: Console,
                        run_one_job: Callable[[Settings], object]) -> None:
    """A churn model on the demo views ("no activity in the next 30 days"), trained once."""
    from limelight.datasets import repository as datasets_repo

    if _has_version(db, principal, DEMO_CHURN_MODEL):
        return
    with db.transaction(write=False) as session:
        if datasets_repo.by_name(session, principal.org_id, "views") is None:
            return
        titles = "titles" if datasets_repo.by_name(session, principal.org_id, "titles") is not None else None
    console.print("Training predict-behaviour/churn on the demo views (30-day horizon)…")
    finished = _train_now(settings, db, principal, console, run_one_job, JobCreate(
        recipe="predict-behaviour/churn", dataset="views", items_dataset=titles, model=DEMO_CHURN_MODEL,
        promote="production", params={"horizon_days": 30}),
        ModelUpdate(card=CHURN_CARD, tags=["churn", "demo"], description="Demo churn model"))
    if finished is None:
        return
    metrics = finished.result["metrics"]
    console.print(f"Churn model: ROC AUC {metrics.get('roc_auc')} (recency alone {metrics.get('baseline_roc_auc')})")


def _ensure_templates(settings: Settings, db: Database, principal: Principal, console: Console) -> None:
    """The built-in prompt templates (logline, melody, …) as public models of the demo org."""
    from limelight.artifacts.registry import open_store
    from limelight.demo.llm import LLM_MODEL
    from limelight.generation.builtin_templates import register_builtin_templates
    from limelight.registry import repository as registry_repo

    with db.transaction() as session:
        llm = registry_repo.model_by_name(session, principal.org_id, LLM_MODEL)
        # one served SmolLM2 for every template; without it each loads the bundled model itself
        base_model = f"{DEMO_ORG}/{LLM_MODEL}" if llm is not None and llm.latest_version > 0 else None
        added = register_builtin_templates(session, principal, DEMO_ORG, open_store(settings.artifacts_url),
                                           base_model=base_model)
    if added:
        console.print(f"Registered {len(added)} built-in prompt templates: {', '.join(added)}")


def _upload_synthetic(db: Database, store, principal: Principal) -> None:
    from limelight.recsys.synthetic import generate_catalog

    # a fifth of the audience fades out and stops, so the demo's churn model has someone to find
    catalog = generate_catalog(n_items=3000, n_users=2000, seed=7, churn_fraction=DEMO_CHURN_FRACTION)
    for name, kind, table in (("views", DatasetKind.interactions, catalog.interactions_table()),
                              ("titles", DatasetKind.items, catalog.items_table())):
        with store.stage(suffix=".parquet") as raw:
            pq.write_table(table, raw.path)
            _store_dataset(db, store, principal, name, kind, Path(raw.path), f"{name}.parquet",
                           "synthetic demo data")


def _store_dataset(db: Database, store, principal: Principal, name: str, kind: DatasetKind, path: Path,
                   filename: str, description: str) -> None:
    from limelight.datasets.ingest import ingest

    with store.stage(suffix=".parquet") as normalized:
        result = ingest(path, kind=kind.value, filename=filename, dest=normalized.path)
        ref = normalized.commit()
    with db.transaction() as session:
        datasets.add_version(session, principal, DEMO_ORG, name, kind, sha256=ref.sha256,
                             size_bytes=ref.size_bytes, source_format=result.format,
                             source_filename=filename, rows=result.rows,
                             columns=[{"name": c.name, "type": c.type} for c in result.columns],
                             profile=result.profile, description=description)


def _ensure_assistant(settings: Settings, db: Database, principal: Principal, console: Console,
                      run_one_job: Callable[[Settings], object]) -> None:
    """The help centre as a documents dataset (uploaded as a zip) and an assistant/rag model on it."""
    from limelight.artifacts.registry import open_store
    from limelight.assistant.shipped import write_zip

    if _has_version(db, principal, DEMO_ASSISTANT):
        return
    started = time.monotonic()
    console.print("Indexing the Reelwave help centre (45 articles) for the support assistant…")
    store = open_store(settings.artifacts_url)
    with store.stage(suffix=".zip") as raw:
        write_zip(Path(raw.path))
        _store_dataset(db, store, principal, "help-center", DatasetKind.documents, Path(raw.path),
                       "help-center.zip", "the fictional Reelwave help centre shipped with limelight")
    finished = _train_now(settings, db, principal, console, run_one_job, JobCreate(
        recipe="assistant/rag", dataset="help-center", model=DEMO_ASSISTANT, promote="production"),
        ModelUpdate(card=ASSISTANT_CARD, tags=["assistant", "support", "demo"], description="Demo support assistant"))
    if finished is None:
        return
    console.print(f"Support assistant ready in {time.monotonic() - started:.0f}s "
                  f"({finished.result['metrics'].get('passages')} passages)")


def _show_credentials(settings: Settings, console: Console) -> None:
    path = settings.home / "demo-credentials.txt"
    where = f" (kept in {path})" if path.exists() else ""
    console.print(f"[bold]limelight demo[/] on http://{settings.server.host}:{settings.server.port}{where}",
                  soft_wrap=True)
    console.print(f"  try: curl -s -X POST http://{settings.server.host}:{settings.server.port}/v1/models/"
                  f"{DEMO_ORG}/{DEMO_MODEL}:recommend -H \"Authorization: Bearer $KEY\" "
                  "-d '{\"user_id\": \"u00042\", \"k\": 5}'", soft_wrap=True)
    console.print(f"  ask: curl -s -X POST http://{settings.server.host}:{settings.server.port}/v1/models/"
                  f"{DEMO_ORG}/{DEMO_ASSISTANT}:ask -H \"Authorization: Bearer $KEY\" "
                  "-d '{\"question\": \"How long do downloads last?\"}'", soft_wrap=True)
