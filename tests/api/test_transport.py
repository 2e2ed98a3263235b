"""TLS on the HTTP and gRPC ports with `limelight dev-cert`'s certificate, production's refusal of
plain HTTP, the Host check and the security headers, all on real `limelight serve` processes."""

from __future__ import annotations

import ipaddress
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from tests.support.live_server import LiveServer, free_port, run_cli, server_env, start_live_server

SECRET = "s" * 40
PAGE_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


@pytest.fixture(scope="module")
def dev_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("certs") / "tls"
    env = server_env(out.parent, f"sqlite:///{out.parent / 'unused.db'}")
    result = run_cli(env, "dev-cert", "--out", str(out))
    assert str(out / "cert.pem") in result.stderr.replace("\n", "")
    return out / "cert.pem", out / "key.pem"


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory, dev_cert: tuple[Path, Path]) -> Iterator[LiveServer]:
    """Production mode over TLS: the whole set of production checks is on."""
    cert, key = dev_cert
    home = tmp_path_factory.mktemp("https-home")
    live = start_live_server(home, f"sqlite:///{home / 'meta.db'}", serve_args=(
        "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)), tls_cert=cert,
        LIMELIGHT_MODE="production", LIMELIGHT_SECRET_KEY=SECRET)
    try:
        yield live
    finally:
        live.stop()


def test_dev_cert_names_the_loopback_hosts_and_keeps_its_key_private(dev_cert):
    cert_path, key_path = dev_cert
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(key_path.parent).st_mode) == 0o700
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(names.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"),
                                                               ipaddress.ip_address("::1")}
    assert b"PRIVATE KEY" in key_path.read_bytes() and b"PRIVATE KEY" not in cert_path.read_bytes()


def test_https_answers_with_the_certificate_and_secure_cookies(https_server: LiveServer):
    assert https_server.url.startswith("https://")
    with https_server.client() as client:
        assert client.get("/api/v1/whoami").json()["username"] == "admin"
    with https_server.anonymous() as anon:
        response = anon.post("/api/v1/auth/login", json={"username": "admin",
                                                          "password": "correct-horse-battery-staple"})
        assert response.status_code == 200
        cookie = response.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie
    # Nothing but that certificate makes it trusted: the system's CA store refuses it.
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{https_server.url}/healthz", timeout=10)


def test_plain_http_on_the_tls_port_gets_no_answer(https_server: LiveServer):
    plain = https_server.url.replace("https://", "http://")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{plain}/healthz", timeout=10)


def test_grpc_speaks_tls_with_the_same_certificate(https_server: LiveServer, dev_cert):
    grpc = pytest.importorskip("grpc")
    from limelight.serving.protocols.grpc_v2 import pb

    cert, _ = dev_cert
    target = f"127.0.0.1:{https_server.grpc_port}"
    credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    with grpc.secure_channel(target, credentials, options=[("grpc.ssl_target_name_override", "localhost")]) as channel:
        live = channel.unary_unary("/inference.GRPCInferenceService/ServerLive",
                                   request_serializer=pb.ServerLiveRequest.SerializeToString,
                                   response_deserializer=pb.ServerLiveResponse.FromString)
        assert live(pb.ServerLiveRequest(), timeout=10).live is True
        metadata = channel.unary_unary("/inference.GRPCInferenceService/ServerMetadata",
                                       request_serializer=pb.ServerMetadataRequest.SerializeToString,
                                       response_deserializer=pb.ServerMetadataResponse.FromString)
        answer = metadata(pb.ServerMetadataRequest(), timeout=10,
                          metadata=(("authorization", f"Bearer {https_server.admin_key}"),))
        assert answer.name
    with grpc.insecure_channel(target) as channel:  # a plaintext client cannot talk to it
        live = channel.unary_unary("/inference.GRPCInferenceService/ServerLive",
                                   request_serializer=pb.ServerLiveRequest.SerializeToString,
                                   response_deserializer=pb.ServerLiveResponse.FromString)
        with pytest.raises(grpc.RpcError) as refused:
            live(pb.ServerLiveRequest(), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_the_cli_trusts_the_certificate_through_ssl_cert_file(https_server: LiveServer, dev_cert):
    cert, _ = dev_cert
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMELIGHT_")}
    env.update({"SSL_CERT_FILE": str(cert), "LIMELIGHT_URL": https_server.url,
                "LIMELIGHT_API_KEY": https_server.admin_key, "LIMELIGHT_CONFIG_DIR": str(cert.parent / "cli")})
    out = run_cli(env, "whoami", "--json")
    assert '"admin"' in out.stdout


@pytest.mark.parametrize("path", ["/", "/models", "/keys", "/login", "/docs", "/redoc", "/healthz", "/openapi.json",
                                  "/static/app.css", "/docs/assets/swagger-ui.css", "/api/v1/whoami"])
def test_security_headers_and_hsts_on_https(https_server: LiveServer, path: str):
    with https_server.anonymous() as browser:  # signed in with the console's session cookie
        browser.post("/api/v1/auth/login", json={"username": "admin", "password": "correct-horse-battery-staple"})
        response = browser.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text
    for name in PAGE_HEADERS:
        assert name in response.headers, name
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_docs_policies_allow_no_other_origin(https_server: LiveServer):
    with https_server.anonymous() as anon:
        for path in ("/docs", "/redoc"):
            policy = anon.get(path).headers["content-security-policy"]
            sources = " ".join(part.split(" ", 1)[1] for part in policy.split("; ") if " " in part)
            assert "http" not in sources and "*" not in sources, (path, policy)
            assert "script-src 'self'" in policy and "unsafe-eval" not in policy, (path, policy)
        assert "unsafe-inline" not in anon.get("/docs").headers["content-security-policy"]
        html = anon.get("/docs").text + anon.get("/redoc").text
        assert "cdn" not in html and "https://" not in html


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example:443", "localhost@evil.example", ""])
def test_production_refuses_untrusted_hosts_everywhere(https_server: LiveServer, host: str):
    headers = {"Host": host, "Authorization": f"Bearer {https_server.admin_key}"}
    with https_server.anonymous() as anon:
        for method, path in (("GET", "/"), ("GET", "/api/v1/whoami"), ("GET", "/healthz"), ("GET", "/docs"),
                             ("POST", "/v1/models/studio/anything:predict"), ("GET", "/v2/health/live")):
            response = anon.request(method, path, headers=headers, json={"inputs": [[1]]})
            assert response.status_code == 400, (host, path, response.status_code)
            assert response.json()["error"]["code"] == "untrusted_host", (host, path)
            assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("host", ["127.0.0.1", "LOCALHOST:8443", "[::1]:9999"])
def test_production_accepts_the_trusted_hosts_with_any_port(https_server: LiveServer, host: str):
    with https_server.client() as client:
        assert client.get("/api/v1/whoami", headers={"Host": host}).status_code == 200
        assert client.post("/v1/models/studio/absent:predict", headers={"Host": host},
                           json={"inputs": [[1]]}).status_code == 404


def _serve(env: dict[str, str], *args: str, timeout_s: float = 60):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "limelight.cli.main", "serve", "--port", str(free_port()), *args],
                          env=env, text=True, capture_output=True, timeout=timeout_s)


def test_production_refuses_plain_http_without_a_proxy(tmp_path: Path):
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_MODE="production",
                     LIMELIGHT_SECRET_KEY=SECRET, LIMELIGHT_SERVER__GRPC_PORT="0")
    result = _serve(env)
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "HTTPS only" in message and "--ssl-certfile" in message and "--forwarded-allow-ips" in message
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "meta.db").exists()  # refused before touching anything


def test_a_certificate_without_its_key_or_a_bad_key_is_refused(tmp_path: Path, dev_cert):
    cert, _ = dev_cert
    env = server_env(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_SERVER__GRPC_PORT="0")
    alone = _serve(env, "--ssl-certfile", str(cert))
    assert alone.returncode == 2 and "ssl_keyfile" in alone.stderr and "Traceback" not in alone.stderr
    wrong = tmp_path / "other.pem"
    wrong.write_bytes(cert.read_bytes())  # a certificate where the key should be
    mismatched = _serve(env, "--ssl-certfile", str(cert), "--ssl-keyfile", str(wrong))
    assert mismatched.returncode == 2 and "do not load together" in " ".join(mismatched.stderr.split())
    missing = _serve(env, "--ssl-certfile", str(cert), "--ssl-keyfile", str(tmp_path / "nope.pem"))
    assert missing.returncode == 2 and "nope.pem" in missing.stderr.replace("\n", "")


def test_production_behind_a_named_proxy_trusts_only_its_forwarded_headers(tmp_path: Path):
    live = start_live_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", serve_args=(
        "--forwarded-allow-ips", "127.0.0.1"), LIMELIGHT_MODE="production", LIMELIGHT_SECRET_KEY=SECRET)
    try:
        login = {"username": "admin", "password": "correct-horse-battery-staple"}
        with live.anonymous() as anon:
            proxied = anon.post("/api/v1/auth/login", json=login, headers={"X-Forwarded-Proto": "https"})
            assert "secure" in proxied.headers["set-cookie"].lower()
            assert "strict-transport-security" in anon.get("/login", headers={"X-Forwarded-Proto": "https"}).headers
            direct = anon.post("/api/v1/auth/login", json=login)
            assert "secure" not in direct.headers["set-cookie"].lower()
            assert "strict-transport-security" not in anon.get("/login").headers
    finally:
        live.stop()


def test_dev_mode_ignores_forwarded_headers_and_the_host_check(sqlite_server: LiveServer):
    with sqlite_server.anonymous() as anon:
        login = {"username": "admin", "password": "correct-horse-battery-staple"}
        response = anon.post("/api/v1/auth/login", json=login, headers={"X-Forwarded-Proto": "https"})
        assert "secure" not in response.headers["set-cookie"].lower()  # no proxy named: not believed
        other_name = anon.get("/healthz", headers={"Host": "my-laptop.local:8000"})
        assert other_name.status_code == 200
        for path in ("/login", "/docs", "/redoc", "/openapi.json"):
            headers = anon.get(path).headers
            assert all(name in headers for name in PAGE_HEADERS), path
            assert "strict-transport-security" not in headers, path
