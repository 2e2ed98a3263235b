"""The Python SDK of limelight.

    from limelight.client import Client

    with Client("http://127.0.0.1:8000", api_key="ll_…") as client:
        version = client.datasets.upload("studio", "ratings.csv", name="ratings", kind="interactions")
        job = client.jobs.submit("studio", "recommend/als", model="recs", dataset="ratings")
        job = client.jobs.wait("studio", job.id, on_progress=lambda j: print(j.state, j.progress))
        client.models.set_alias("studio", "recs", "production", version=1)
        print(client.recommend("studio/recs", user_id="u1", k=5)["items"])

Resources: ``orgs``, ``users``, ``members``, ``auth``, ``keys``, ``datasets``, ``events``, ``jobs``,
``recipes``, ``models``, ``deployments``, ``audit``; ``whoami()``; inference: ``predict``, ``recommend``,
``similar``, ``explain``, ``score_users``, ``embed``, ``classify``, ``search``, ``generate``,
``generate_stream`` and ``invoke`` (any other verb), each naming the model ``"org/name"`` as the CLI
and the URL do (the old ``(org, name, …)`` form still works for one release, with a
`DeprecationWarning`). `AsyncClient` has the same surface, awaitable. Answers are
`limelight.schemas` models; failures raise `limelight.errors` classes with ``request_id``.
"""

from limelight.client._base import DEFAULT_BASE_URL
from limelight.client._client import AsyncClient, Client
from limelight.client._jobs import JobProgress
from limelight.client._upload import UploadProgress

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncClient",
    "Client",
    "JobProgress",
    "UploadProgress",
]
