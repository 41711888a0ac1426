import subprocess
import sys
from pathlib import Path

import pytest

from training.gpu_manager import acquire_free_gpu

ROOT = Path(__file__).resolve().parents[2]
HOLDER = (
    "import time; from training.gpu_manager import acquire_free_gpu; "
    "print(acquire_free_gpu(count=2), flush=True); time.sleep(60)"
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
        with pytest.raises(ValueError, match="busy"):
            acquire_free_gpu(count=2, timeout_s=0)
        first.kill()
        first.wait()
        assert acquire_free_gpu(count=2, timeout_s=0) == gpu_a  # The killed job's GPU is free again.
    finally:
        for proc in (first, second):
            proc.kill()
            proc.wait()


def test_no_gpu_is_explained(locks):
    with pytest.raises(ValueError, match="No NVIDIA GPU found"):
        acquire_free_gpu(count=0)
