import subprocess
import sys
from pathlib import Path

import pytest

from training.gpu_manager import acquire_free_gpus, gpu_count, release

ROOT = Path(__file__).resolve().parents[2]
HOLDER = (
    "import time; from training.gpu_manager import acquire_free_gpus; "
    "print(*acquire_free_gpus(count=3), flush=True); time.sleep(60)"
)


@pytest.fixture
def locks(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXT_RECOGNIZER_GPU_LOCK_DIR", str(tmp_path))
    return tmp_path


def start_holder(env_dir):
    env = {"TEXT_RECOGNIZER_GPU_LOCK_DIR": str(env_dir), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def test_gpus_are_exclusive_and_freed_when_a_job_dies(locks):
    first, gpu_a = start_holder(locks)
    second, gpu_b = start_holder(locks)
    try:
        assert {gpu_a, gpu_b} == {0, 1}
        with pytest.raises(ValueError, match="never free at once"):
            acquire_free_gpus(2, count=3, timeout_s=0)  # Only GPU 2 is free.
        assert acquire_free_gpus(1, count=3, timeout_s=0) == [2]  # The failed attempt let GPU 2 go,
        release(2)
        first.kill()
        first.wait()
        assert acquire_free_gpus(1, count=3, timeout_s=0) == [gpu_a]  # The killed job's GPU is free again.
    finally:
        for proc in (first, second):
            proc.kill()
            proc.wait()


def test_no_gpu_and_too_many_are_explained(locks):
    with pytest.raises(ValueError, match="No NVIDIA GPU found"):
        acquire_free_gpus(count=0)
    with pytest.raises(ValueError, match="Cannot take 3 GPUs: this machine has 2"):
        acquire_free_gpus(3, count=2)


def test_a_broken_nvml_is_an_error_not_a_silent_cpu_run(monkeypatch):
    import pynvml

    def broken() -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_UNKNOWN)

    monkeypatch.setattr(pynvml, "nvmlInit", broken)
    with pytest.raises(ValueError, match="NVML cannot count the GPUs"):
        gpu_count()
