"""Regenerate ``grpc_predict_v2_pb2.py`` and ``grpc_predict_v2_pb2_grpc.py`` from the .proto here.

    python -m limelight.serving.protocols.grpc_v2.generate [--check]

Needs ``grpcio-tools`` (a dev dependency). ``--check`` generates into a temporary directory and
fails if the committed files differ (the test suite runs it), so the .proto stays the source.
"""

from __future__ import annotations

import filecmp
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO = "grpc_predict_v2.proto"
OUTPUTS = ("grpc_predict_v2_pb2.py", "grpc_predict_v2_pb2_grpc.py")


def generate(out_dir: Path) -> None:
    from grpc_tools import protoc

    code = protoc.main(["protoc", f"-I{HERE}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
                        str(HERE / PROTO)])
    if code != 0:
        raise RuntimeError(f"protoc failed with exit code {code}")
    stub = out_dir / OUTPUTS[1]  # protoc writes an absolute import; make it package-relative
    stub.write_text(stub.read_text().replace("import grpc_predict_v2_pb2 as", "from . import grpc_predict_v2_pb2 as"))
    for name in OUTPUTS:  # generated code is not held to the linters
        path = out_dir / name
        path.write_text("# ruff: noqa\n# mypy: ignore-errors\n" + path.read_text())


def up_to_date() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        return all(filecmp.cmp(Path(tmp) / name, HERE / name, shallow=False) for name in OUTPUTS)


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(0 if up_to_date() else "generated gRPC stubs are stale; rerun without --check")
    generate(HERE)
