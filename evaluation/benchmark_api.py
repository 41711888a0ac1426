"""Load-test the API: start the production server (gunicorn) on 127.0.0.1, send N line requests at concurrency C,
and print cold start, p50/p99 latency, requests/s, errors and server memory (RSS) before and after."""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IMAGE = ROOT / "text_recognizer" / "tests" / "support" / "lines" / "Paris, London and Laos.png"
START_TIMEOUT_S = 60


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, float]:
    """Send one request on a new connection; return the status and seconds taken."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - start
    except OSError:
        return 0, time.perf_counter() - start
    finally:
        connection.close()


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, in MiB (from /proc)."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    total_kib = 0
    for p in pids:
        status = Path(f"/proc/{p}/status").read_text()
        total_kib += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    return total_kib / 1024


def start_server(port: int, workers: int, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, float]:
    """Start gunicorn with the API as in production (`api/gunicorn.conf.py`, plus `extra` options) and wait for its
    health check; return it and the seconds to the first answer."""
    start = time.perf_counter()
    command = [sys.executable, "-m", "gunicorn", "-c", "api/gunicorn.conf.py", "--workers", str(workers)]
    command += ["--bind", f"127.0.0.1:{port}", *extra, "api.app:app"]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while time.perf_counter() - start < START_TIMEOUT_S:
        if request(port, "GET", "/")[0] == 200:
            return server, time.perf_counter() - start
        time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"The API did not answer within {START_TIMEOUT_S} s")


def metrics_text(port: int) -> str:
    """The API's /metrics page."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/metrics")
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def main() -> None:
    """Run the load test and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    args = parser.parse_args()
    body = json.dumps({"image": "data:image/png;base64," + base64.b64encode(args.image.read_bytes()).decode()})
    port = free_port()
    server, cold_start = start_server(port, args.workers)
    try:
        first = request(port, "POST", "/v1/predict", body.encode())
        print(
            f"cold start (server start to health answer): {cold_start:.2f} s; first prediction {first[1] * 1e3:.1f} ms"
        )
        rss_before = rss_mib(server.pid)
        serial = [request(port, "POST", "/v1/predict", body.encode())[1] for _ in range(200)]
        print(f"sequential: p50 {statistics.median(serial) * 1e3:.1f} ms per line request")
        start = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(
                pool.map(lambda _: request(port, "POST", "/v1/predict", body.encode()), range(args.requests))
            )
        elapsed = time.perf_counter() - start
        rss_after = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(10)
    latencies = sorted(seconds for _, seconds in results)
    errors = sum(status != 200 for status, _ in results)
    print(f"{args.requests} requests at concurrency {args.concurrency}, {args.workers} gunicorn workers:")
    print(
        f"  p50 {latencies[len(latencies) // 2] * 1e3:.1f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1e3:.1f} ms"
    )
    print(f"  {args.requests / elapsed:.1f} requests/s, {errors} errors")
    print(f"  server RSS {rss_before:.0f} MiB before, {rss_after:.0f} MiB after")


if __name__ == "__main__":
    main()
