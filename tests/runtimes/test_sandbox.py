"""The artifact validator process: its confinement, its verdicts and its refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from limelight.errors import ArtifactInvalid, UnsafeArtifactFormat
from limelight.runtimes.base import RUNTIME_CLASSES
from limelight.runtimes.sandbox import (
    ArtifactValidator,
    SandboxLimits,
    library_versions,
    validate_in_sandbox,
    verdict_is_current,
)
from limelight.schemas.registry import RuntimeName
from tests.artifacts.crafted import CORPUS
from tests.support.factories import lightgbm_model_bytes

QUICK = SandboxLimits(memory_bytes=2 << 30, cpu_s=10, timeout_s=60)


def _case_file(tmp_path: Path, name: str) -> Path:
    case = next(case for case in CORPUS if case.name == name)
    path = tmp_path / case.filename
    path.write_bytes(case.build())
    return path


def _confined_run(code: str, memory_bytes: int = 1 << 30) -> subprocess.CompletedProcess[str]:
    script = "from limelight.runtimes.sandbox_child import confine\n" \
             f"isolated = confine({memory_bytes}, 10)\n" + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)


def test_every_runtime_has_an_enum_member_and_library_list() -> None:
    assert {member.value for member in RuntimeName} == set(RUNTIME_CLASSES)
    for runtime in RUNTIME_CLASSES:
        assert set(library_versions(runtime)) > {"limelight"}


def test_a_valid_model_passes_with_its_library_versions(tmp_path: Path) -> None:
    path = tmp_path / "model.txt"
    path.write_bytes(lightgbm_model_bytes())
    verdict = validate_in_sandbox(path, runtime="lightgbm", params={}, limits=QUICK)
    assert verdict.format == "lightgbm"
    assert verdict.signature["inputs"][0]["shape"] == [-1, 3]
    assert verdict.libraries == library_versions("lightgbm") and "lightgbm" in verdict.libraries
    assert verdict.network_isolated is (os.geteuid() == 0) or verdict.network_isolated
    assert verdict_is_current(verdict.record("lightgbm"), "lightgbm")


def test_a_native_abort_is_a_refusal_naming_the_signal(tmp_path: Path) -> None:
    path = _case_file(tmp_path, "lightgbm-truncated")  # cut inside its parameters: passes the text checks
    with pytest.raises(ArtifactInvalid) as info:
        validate_in_sandbox(path, runtime="lightgbm", params={}, limits=QUICK)
    assert info.value.details["exit"] in {"SIGABRT", "SIGSEGV"}
    assert "crashed" in str(info.value)


def test_a_hang_is_cut_off_by_the_wall_clock(tmp_path: Path) -> None:
    path = _case_file(tmp_path, "onnx-endless-loop")
    with pytest.raises(ArtifactInvalid) as info:
        validate_in_sandbox(path, runtime="onnx", params={}, limits=SandboxLimits(cpu_s=600, timeout_s=4))
    assert info.value.details["exit"] == "timeout" and "did not finish in 4 s" in str(info.value)


def test_a_hang_is_cut_off_by_the_cpu_limit(tmp_path: Path) -> None:
    path = _case_file(tmp_path, "onnx-endless-loop")
    with pytest.raises(ArtifactInvalid) as info:
        validate_in_sandbox(path, runtime="onnx", params={}, limits=SandboxLimits(cpu_s=3, timeout_s=120))
    assert info.value.details["exit"] in {"SIGXCPU", "SIGKILL"}


def test_a_loader_refusal_keeps_its_code(tmp_path: Path) -> None:
    path = _case_file(tmp_path, "onnx-valid")
    with pytest.raises(UnsafeArtifactFormat) as info:
        validate_in_sandbox(path, runtime="lightgbm", params={}, limits=QUICK)
    assert info.value.details["validator"] == "sandbox"


def test_the_confined_process_has_no_network_when_the_kernel_allows() -> None:
    result = _confined_run("""
        import socket
        try:
            socket.create_connection(("127.0.0.1", 5432), timeout=3).close()
            print("connected", isolated)
        except OSError as exc:
            print("refused", isolated, exc.errno)
    """)
    assert result.returncode == 0, result.stderr
    outcome, isolated = result.stdout.split()[:2]
    if isolated == "True":
        assert outcome == "refused"
    else:  # an unprivileged user without user namespaces: said so in the verdict
        pytest.skip("this kernel lets neither root nor a user namespace unshare the network")


def test_the_confined_process_cannot_exceed_its_memory() -> None:
    result = _confined_run("""
        try:
            block = bytearray(1 << 30)
            print("allocated")
        except MemoryError:
            print("refused")
    """, memory_bytes=512 << 20)
    assert result.stdout.strip() == "refused", result.stderr


def test_the_validator_remembers_a_verdict_and_shares_one_run(tmp_path: Path) -> None:
    path = tmp_path / "model.txt"
    path.write_bytes(lightgbm_model_bytes(seed=3))
    validator = ArtifactValidator(QUICK)
    with ThreadPoolExecutor(4) as pool:
        verdicts = list(pool.map(lambda _: validator.validate(path, runtime="lightgbm", params={}), range(4)))
    assert all(verdict is verdicts[0] for verdict in verdicts)  # one child ran; the others waited for it
    other_params = validator.validate(path, runtime="lightgbm", params={"num_threads": 2})
    assert other_params is not verdicts[0]


def test_a_pickle_is_refused_before_any_validator_starts(tmp_path: Path) -> None:
    path = _case_file(tmp_path, "pickle-as-txt")
    validator = ArtifactValidator(SandboxLimits(timeout_s=0.001))  # a started child could not answer in time
    with pytest.raises(UnsafeArtifactFormat) as info:
        validator.validate(path, runtime="lightgbm", params={})
    assert info.value.details["detected"].startswith("pickle")


@pytest.mark.parametrize("record", [
    None,
    {"status": "passed", "runtime": "onnx", "libraries": library_versions("lightgbm")},
    {"status": "passed", "runtime": "lightgbm", "libraries": {"lightgbm": "0.0.1"}},
    {"status": "failed", "runtime": "lightgbm", "libraries": library_versions("lightgbm")},
])
def test_a_verdict_counts_only_for_its_runtime_and_these_libraries(record: dict | None) -> None:  # type: ignore[type-arg]
    assert not verdict_is_current(record, "lightgbm")
