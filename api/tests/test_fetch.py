import ipaddress
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api import fetch
from api.fetch import fetch_image_bytes, public_only


def only_127_0_0_1(ip):
    return ip == ipaddress.ip_address("127.0.0.1")


@pytest.fixture
def redirector():
    """A loopback server whose paths redirect: /to?url=... answers 302 to that URL; /slow sleeps; /big is large."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/to/"):
                self.send_response(302)
                self.send_header("Location", self.path[len("/to/") :].replace("SCHEME", "http://"))
                self.end_headers()
            elif self.path == "/loop":
                self.send_response(302)
                self.send_header("Location", "/loop")
                self.end_headers()
            elif self.path == "/slow":
                time.sleep(2)
                self.send_response(200)
                self.end_headers()
            elif self.path == "/big":
                self.send_response(200)
                self.send_header("Content-Length", str(fetch.MAX_BYTES + 1))
                self.end_headers()
                self.wfile.write(b"x" * 1024)
            elif self.path == "/unsized":
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"x" * (fetch.MAX_BYTES + 10))
            else:
                self.send_response(200)
                self.send_header("Content-Length", "5")
                self.end_headers()
                self.wfile.write(b"image")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_allowed_address_is_fetched_through_redirects(redirector):
    assert (
        fetch_image_bytes(f"{redirector}/to/SCHEME127.0.0.1:{redirector.rsplit(':', 1)[1]}/ok", only_127_0_0_1)
        == b"image"
    )


def test_redirect_to_a_refused_address_is_refused(redirector):
    port = redirector.rsplit(":", 1)[1]
    for target in (f"SCHEME127.0.0.2:{port}/ok", f"SCHEME[::1]:{port}/ok", "SCHEME169.254.169.254/latest"):
        with pytest.raises(ValueError, match="refused address"):
            fetch_image_bytes(f"{redirector}/to/{target}", only_127_0_0_1)
    with pytest.raises(ValueError, match="http:// or https://"):
        fetch_image_bytes(f"{redirector}/to/file:///etc/passwd", only_127_0_0_1)


def test_redirect_loops_sizes_and_timeouts_are_bounded(redirector, monkeypatch):
    with pytest.raises(ValueError, match="redirected more than 3 times"):
        fetch_image_bytes(f"{redirector}/loop", only_127_0_0_1)
    with pytest.raises(ValueError, match="exceeds"):
        fetch_image_bytes(f"{redirector}/big", only_127_0_0_1)
    with pytest.raises(ValueError, match="exceeds"):
        fetch_image_bytes(f"{redirector}/unsized", only_127_0_0_1)
    monkeypatch.setattr(fetch, "TIMEOUT_S", 0.3)
    with pytest.raises(ValueError, match="timed out"):
        fetch_image_bytes(f"{redirector}/slow", only_127_0_0_1)


def test_default_policy_refuses_the_loopback_server(redirector):
    with pytest.raises(ValueError, match="refused address"):
        fetch_image_bytes(f"{redirector}/ok")


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),
        ("fe80::1", False),
        ("ff02::1", False),
        ("0.0.0.0", False),
        ("240.0.0.1", False),
    ],
)
def test_public_only_policy(address, allowed):
    assert public_only(ipaddress.ip_address(address)) is allowed
