"""The demo trains a churn model on its synthetic views, whose audience now fades out and stops."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from tests.support.demo_home import demo_home


def test_the_demo_trains_a_churn_model_on_its_views(tmp_path):
    from limelight.artifacts.registry import open_store
    from limelight.demo.setup import DEMO_CHURN_MODEL, DEMO_ORG, _ensure_churn_model, _store_dataset
    from limelight.recsys.synthetic import generate_catalog
    from limelight.registry import service as registry
    from limelight.schemas.datasets import DatasetKind

    with demo_home(tmp_path) as home:
        _ensure_churn_model(home.settings, home.db, home.principal, home.console, home.run_one_job)
        assert "predict-behaviour" not in home.printed()  # no views yet: nothing to train on
        catalog = generate_catalog(n_items=150, n_users=300, seed=7, churn_fraction=0.2, days=365,
                                   mean_events_per_user=20)
        store = open_store(home.settings.artifacts_url)
        raw = Path(tmp_path / "views.parquet")
        pq.write_table(catalog.interactions_table(), raw)
        _store_dataset(home.db, store, home.principal, "views", DatasetKind.interactions, raw, "views.parquet", "t")
        _ensure_churn_model(home.settings, home.db, home.principal, home.console, home.run_one_job)
        with home.db.transaction(write=False) as session:
            version = registry.get_version(session, home.principal, DEMO_ORG, DEMO_CHURN_MODEL, 1)
            model = registry.get_model(session, home.principal, DEMO_ORG, DEMO_CHURN_MODEL)
    assert model.card.startswith("# Who is about to leave") and "churn" in model.tags
    assert "Churn model: ROC AUC" in home.printed(), home.printed()
    assert version.runtime == "behaviour" and version.metrics["roc_auc"] > 0.8
    assert 0 < version.metrics["baseline_roc_auc"] < 1 and version.metrics["reliability"]
