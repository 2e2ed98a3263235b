"""A self-signed certificate for trying TLS on one machine: 127.0.0.1, ::1 and localhost.

Clients trust it by naming the certificate file itself (``httpx.Client(verify=...)``,
``SSL_CERT_FILE=...``, ``grpc.ssl_channel_credentials(root_certificates=...)``); it is its own CA.
Not for production: there, use a certificate from the organisation's CA or a public one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from limelight.private_paths import PRIVATE_FILE_MODE, make_private_dirs

__all__ = ["DEV_CERT_HOSTS", "DevCert", "write_dev_cert"]

DEV_CERT_HOSTS = ("localhost", "127.0.0.1", "::1")
CERT_NAME, KEY_NAME = "cert.pem", "key.pem"
VALID_DAYS = 365


@dataclass(frozen=True)
class DevCert:
    certfile: Path
    keyfile: Path


def write_dev_cert(out_dir: Path, *, now: dt.datetime | None = None) -> DevCert:
    """Write ``cert.pem`` (0o644) and ``key.pem`` (0o600) into ``out_dir`` (created 0o700),
    replacing earlier ones."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _self_signed(key, now or dt.datetime.now(dt.UTC))
    make_private_dirs(out_dir)
    paths = DevCert(out_dir / CERT_NAME, out_dir / KEY_NAME)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    _replace(paths.keyfile, key_pem, PRIVATE_FILE_MODE)
    _replace(paths.certfile, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return paths


def _self_signed(key: ec.EllipticCurvePrivateKey, now: dt.datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "limelight dev certificate")])
    alt_names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in DEV_CERT_HOSTS[1:]]
    return (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))  # a client clock slightly behind still accepts it
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        # Its own CA (clients trust exactly this file), and a TLS server certificate.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _replace(path: Path, data: bytes, mode: int) -> None:
    """Write to a new private file then rename over ``path``: the key is never readable by others,
    not even for a moment, and a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(fd, mode)
        handle.write(data)
        handle.flush()
        os.fsync(fd)
    os.replace(tmp, path)
