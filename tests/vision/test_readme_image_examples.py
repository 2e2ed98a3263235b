"""The README's image section runs as written, in a shell (it uses ``$(base64 -w0 ant.jpg)``), with
its files made here: a tiny classifier named ``ants-bees.onnx`` and two pictures."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.datasets_images.archives import zip_of
from tests.recommend_api.test_readme_examples import IMAGE_SECTION, readme_curl_commands
from tests.support.factories import new_tenant, ok, wait_for_job
from tests.support.snippets import card_of, run_snippets
from tests.vision.models import colour_classifier, picture
from tests.vision_train.pictures import shape_picture


def test_the_image_section_runs_as_written(sqlite_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    commands = readme_curl_commands(IMAGE_SECTION)
    assert sum(":classify" in c for c in commands) == 2 and any("/versions" in c for c in commands)
    assert any("classify-image/transfer" in c for c in commands)
    colour_classifier(tmp_path / "ants-bees.onnx", labels=("ants", "bees", "wasps"))
    (tmp_path / "ant.jpg").write_bytes(picture("red", "JPEG"))
    (tmp_path / "bee.png").write_bytes(picture("green"))
    tenant = new_tenant(sqlite_server)
    shapes = {f"{kind}/{i}.png": shape_picture(kind, i) for kind in ("circles", "squares") for i in range(6)}
    with tenant.client() as client:  # the images dataset the training example names
        ok(client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": ("insects.zip", zip_of(shapes))},
                       data={"name": "insects", "kind": "images"}))
    answers = []
    for command in commands:
        ours = command.replace("http://127.0.0.1:8000", sqlite_server.url).replace("/demo/", f"/{tenant.org}/")
        done = subprocess.run(["bash", "-c", ours + " -w '\\n%{http_code}'"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120, check=False, env={"KEY": tenant.key, "PATH": "/usr/bin:/bin"})
        body, _, status = done.stdout.rpartition("\n")
        assert status in ("200", "201"), f"{command}\n-> {status} {body} {done.stderr}"
        answers.append(json.loads(body))
        if "/jobs" in command:  # the training example: its job must succeed
            with tenant.client() as client:
                job = wait_for_job(client, tenant.org, answers[-1]["id"], timeout_s=300)
            assert job["state"] == "succeeded", job
    one, two = answers[-2], answers[-1]
    assert [p["label"] for p in one["predictions"]] == ["ants"] and len(one["predictions"][0]["labels"]) == 2
    assert [p["label"] for p in two["predictions"]] == ["ants", "bees"]

    # the trained model's card: a validation picture as the example, every snippet runs as printed
    trained = next(answer["model"] for command, answer in zip(commands, answers, strict=True) if "/jobs" in command)
    card = card_of(tenant, trained)
    assert card["example"]["verb"] == "classify" and card["example"]["body"]["top_k"] == 2
    assert len(card["example"]["body"]["image"]) < 20_000  # a small JPEG, printable in a snippet
    for kind, answer in run_snippets(card, tenant.key).items():
        assert answer["predictions"][0]["label"] in ("circles", "squares"), (kind, answer)
