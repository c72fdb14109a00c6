"""ICP-Brasil A1 certificates (PKCS#12): parse and check, make test ones, build mTLS contexts.

`load_pkcs12(data, password, expected_cnpj=..., now=...)` refuses, with a `CertificateError`
whose `code` names the problem and whose message is fit for the UI: a wrong password
(`wrong_password`), an unreadable file (`invalid_file`), no private key (`no_private_key`), an
expired or not yet valid certificate (`expired`, `not_yet_valid`), no CNPJ in it (`no_cnpj`) or a
CNPJ other than the issuer's (`cnpj_mismatch`). The CNPJ comes from the ICP-Brasil otherName
2.16.76.1.3.3 in subjectAltName, else from the CN (`NAME:CNPJ`).

The password is never logged and never kept; `A1Certificate` keeps the key in memory only.
`A1Certificate.ssl_context()` writes the key/cert PEM to a 0600 temporary file (key encrypted
with a one-time password), loads it and removes it before returning.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import re
import secrets
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ICP_CNPJ_OID = x509.ObjectIdentifier("2.16.76.1.3.3")
"""ICP-Brasil otherName carrying the company's CNPJ."""
ICP_RESPONSIBLE_OID = x509.ObjectIdentifier("2.16.76.1.3.4")
"""ICP-Brasil otherName with the responsible person's data (birth date, CPF, …)."""


class CertificateError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class A1Certificate:
    certificate: x509.Certificate
    private_key: Any = field(repr=False)
    chain: tuple[x509.Certificate, ...] = ()
    cnpj: str | None = None

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def issuer(self) -> str:
        return self.certificate.issuer.rfc4514_string()

    @property
    def common_name(self) -> str | None:
        attrs = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else None

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    @property
    def serial_number(self) -> str:
        return format(self.certificate.serial_number, "x")

    @property
    def fingerprint_sha256(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def summary(self) -> dict[str, Any]:
        """What the UI shows (no secrets)."""
        return {
            "subject": self.subject, "common_name": self.common_name, "cnpj": self.cnpj,
            "issuer": self.issuer, "valid_from": self.not_before.isoformat(),
            "valid_until": self.not_after.isoformat(), "serial_number": self.serial_number,
            "fingerprint_sha256": self.fingerprint_sha256,
        }

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def certificate_der_b64(self) -> str:
        return base64.b64encode(self.certificate.public_bytes(serialization.Encoding.DER)).decode()

    def private_key_pem(self, password: bytes | None = None) -> bytes:
        enc = (serialization.BestAvailableEncryption(password) if password
               else serialization.NoEncryption())
        return self.private_key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8, enc)

    def to_pkcs12(self, password: str) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            b"a1", self.private_key, self.certificate, list(self.chain) or None,
            serialization.BestAvailableEncryption(password.encode()))

    def ssl_context(self, ca_bundle: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
        """Client TLS context presenting this certificate (mutual TLS). `ca_bundle`: who to
        trust as server CA (default: the system store, which honours SSL_CERT_FILE)."""
        ctx = ssl.create_default_context(cafile=os.fspath(ca_bundle) if ca_bundle else None)
        one_time = secrets.token_urlsafe(24).encode()
        fd, path = tempfile.mkstemp(prefix="a1-", suffix=".pem")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(self.private_key_pem(one_time))
                fh.write(self.certificate_pem())
                fh.write(self.chain_pem())
            ctx.load_cert_chain(path, password=one_time)
        finally:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        return ctx


def _der_text(value: bytes) -> str:
    """Content of a DER primitive (OCTET STRING / PrintableString / UTF8String …), or the bytes."""
    if len(value) >= 2 and value[0] in (0x04, 0x0C, 0x13, 0x16, 0x1A, 0x1E):
        length, offset = value[1], 2
        if length & 0x80:
            n = length & 0x7F
            length, offset = int.from_bytes(value[2:2 + n], "big"), 2 + n
        value = value[offset:offset + length]
    return value.decode("latin-1", errors="replace")


def cnpj_from_certificate(cert: x509.Certificate) -> str | None:
    """CNPJ of an ICP-Brasil e-CNPJ: otherName 2.16.76.1.3.3, else `NAME:CNPJ` in the CN."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for other in san.get_values_for_type(x509.OtherName):
            if other.type_id == ICP_CNPJ_OID:
                text = re.sub(r"[^0-9A-Z]", "", _der_text(other.value).upper())
                if len(text) >= 14:
                    return text[-14:]
    except x509.ExtensionNotFound:
        pass
    for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
        m = re.search(r":\s*([0-9A-Z]{12}[0-9]{2})\s*$", str(attr.value).upper())
        if m:
            return m.group(1)
    return None


def load_pkcs12(data: bytes, password: str, *, expected_cnpj: str | None = None,
                now: datetime | None = None) -> A1Certificate:
    """Parses and checks an A1 (.pfx/.p12). Raises CertificateError (see module doc)."""
    if not data:
        raise CertificateError("invalid_file", "The certificate file is empty.")
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, (password or "").encode() or None)
    except ValueError as exc:
        text = str(exc).lower()
        if "password" in text or "mac" in text or "decrypt" in text:
            raise CertificateError("wrong_password",
                                   "Wrong certificate password: the file could not be opened.") from None
        raise CertificateError("invalid_file",
                               "This is not a readable PKCS#12 (.pfx/.p12) certificate file.") from None
    except Exception:  # noqa: BLE001 - any parse failure is an unreadable file
        raise CertificateError("invalid_file",
                               "This is not a readable PKCS#12 (.pfx/.p12) certificate file.") from None
    if cert is None:
        raise CertificateError("invalid_file", "The file holds no certificate.")
    if key is None:
        raise CertificateError("no_private_key",
                               "The file has no private key: export the A1 certificate with its key.")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():
        raise CertificateError("no_private_key", "The private key does not belong to the certificate.")
    at = now or datetime.now(timezone.utc)
    if at > cert.not_valid_after_utc:
        raise CertificateError(
            "expired", f"The certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}.")
    if at < cert.not_valid_before_utc:
        raise CertificateError(
            "not_yet_valid", f"The certificate is valid only from {cert.not_valid_before_utc:%Y-%m-%d}.")
    cnpj = cnpj_from_certificate(cert)
    if expected_cnpj is not None:
        expected = re.sub(r"[^0-9A-Z]", "", expected_cnpj.upper())
        if cnpj is None:
            raise CertificateError(
                "no_cnpj", "The certificate carries no CNPJ (ICP-Brasil OID 2.16.76.1.3.3 or CN): "
                           "an e-CNPJ A1 certificate is required.")
        if cnpj != expected:
            raise CertificateError(
                "cnpj_mismatch",
                f"The certificate belongs to CNPJ {cnpj}, not to the issuer's CNPJ {expected}.")
    return A1Certificate(certificate=cert, private_key=key, chain=tuple(extra or ()), cnpj=cnpj)


# --------------------------------------------------------------------------- test certificates

def _der_octet_string(payload: bytes) -> bytes:
    assert len(payload) < 128
    return bytes([0x04, len(payload)]) + payload


@dataclass(frozen=True)
class TestCA:
    """A throw-away certificate authority for the sandbox and the fake servers."""

    __test__ = False  # not a pytest class

    key: Any = field(repr=False)
    certificate: x509.Certificate

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue_server(self, hosts: tuple[str, ...] = ("127.0.0.1", "localhost"), *, days: int = 30,
                     now: datetime | None = None) -> tuple[bytes, bytes]:
        """(cert_pem, key_pem) for a TLS server on `hosts`."""
        key = _new_key()
        sans: list[x509.GeneralName] = []
        for h in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                sans.append(x509.DNSName(h))
        at = now or datetime.now(timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
                .issuer_name(self.certificate.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(at - timedelta(hours=1)).not_valid_after(at + timedelta(days=days))
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(self.key, hashes.SHA256()))
        return (cert.public_bytes(serialization.Encoding.PEM),
                key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))

    def issue_a1(self, cnpj: str, name: str, *, days: int = 365, now: datetime | None = None,
                 not_before: datetime | None = None, with_oid: bool = True) -> A1Certificate:
        """An e-CNPJ-style A1: CN `NAME:CNPJ`, otherName 2.16.76.1.3.3 = CNPJ, client+signing use."""
        key = _new_key()
        at = now or datetime.now(timezone.utc)
        start = not_before or (at - timedelta(hours=1))
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([
                       x509.NameAttribute(NameOID.COUNTRY_NAME, "BR"),
                       x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ICP-Brasil (TEST)"),
                       x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Retaguarda sandbox"),
                       x509.NameAttribute(NameOID.COMMON_NAME, f"{name[:40]}:{cnpj}")]))
                   .issuer_name(self.certificate.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(start + timedelta(days=days))
                   .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                                False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH,
                                                         ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                                  critical=False))
        if with_oid:
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.OtherName(ICP_CNPJ_OID, _der_octet_string(cnpj.encode()))]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return A1Certificate(certificate=cert, private_key=key, chain=(self.certificate,), cnpj=cnpj)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def generate_test_ca(name: str = "Retaguarda TEST CA", *, days: int = 3650,
                     now: datetime | None = None) -> TestCA:
    key = _new_key()
    at = now or datetime.now(timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "BR"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(at - timedelta(days=1)).not_valid_after(at + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return TestCA(key=key, certificate=cert)


def generate_test_a1(cnpj: str, name: str, *, password: str, days: int = 365,
                     ca: TestCA | None = None, now: datetime | None = None) -> tuple[bytes, A1Certificate]:
    """A sandbox A1 for a tenant that uploaded none: (pfx bytes, parsed certificate)."""
    authority = ca or generate_test_ca("Retaguarda SANDBOX CA (not ICP-Brasil)", now=now)
    cert = authority.issue_a1(cnpj, name, days=days, now=now)
    return cert.to_pkcs12(password), cert


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
