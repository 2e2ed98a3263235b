from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from limelight.errors import InvalidParams, UnsafeArtifactFormat, ValidationFailed
from limelight.runtimes import RUNTIME_CLASSES, Runtime, load_runtime
from limelight.runtimes.base import check_float_row, refuse_pickle


def test_unknown_runtime_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParams) as info:
        load_runtime("tensorflow-savedmodel", tmp_path, {})
    assert info.value.details["field"] == "runtime"


@pytest.mark.parametrize("runtime", sorted(RUNTIME_CLASSES))
def test_every_runtime_refuses_a_pickle(runtime: str, pickle_file: Path) -> None:
    with pytest.raises(UnsafeArtifactFormat):
        load_runtime(runtime, pickle_file, {})


@pytest.mark.parametrize("runtime", sorted(RUNTIME_CLASSES))
def test_every_runtime_refuses_a_directory_holding_a_pickle(runtime: str, pickle_file: Path) -> None:
    with pytest.raises(UnsafeArtifactFormat):
        load_runtime(runtime, pickle_file.parent, {})


def test_torch_save_style_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(UnsafeArtifactFormat):
        refuse_pickle(path)


def test_importing_runtimes_pulls_no_heavy_library() -> None:
    code = (
        "import sys, limelight.runtimes, limelight.runtimes.base;"
        "heavy = {'torch', 'onnxruntime', 'lightgbm', 'transformers', 'sklearn', 'skops'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "[]"


def test_float_row_validation_names_the_field() -> None:
    assert check_float_row([1, 2.5], 2) == [1, 2.5]
    for bad, field in [
        ("12", "inputs"),
        ([1.0], "inputs"),
        ([1.0, "2"], "inputs[1]"),
        ([True, 1.0], "inputs[0]"),
        ([float("nan"), 1.0], "inputs[0]"),
        ([10**400, 1.0], "inputs[0]"),
    ]:
        with pytest.raises(ValidationFailed) as info:
            check_float_row(bad, 2)
        assert info.value.details["field"] == field


def test_runtime_protocol_is_checkable() -> None:
    class Tiny:
        memory_bytes = 1
        max_batch_size = 1

        def predict_batch(self, inputs: list) -> list:
            return inputs

        def signature(self) -> dict:
            return {}

        def validate_input(self, item: object) -> object:
            return item

        def close(self) -> None:
            pass

    assert isinstance(Tiny(), Runtime)
    assert not isinstance(object(), Runtime)


@pytest.mark.parametrize("value", [0, 10_000, "2", 2.0, True])
def test_int_params_are_bounded(value: object) -> None:
    from limelight.runtimes.base import int_param

    assert int_param({}, "threads", 2, 1, 64) == 2
    with pytest.raises(InvalidParams) as info:
        int_param({"threads": value}, "threads", 2, 1, 64)
    assert info.value.details["field"] == "params.threads"
