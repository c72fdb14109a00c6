"""A1 (PKCS#12) parsing: every refusal has its code and a clear message; mTLS temp files vanish."""

from __future__ import annotations

import glob
import os
import tempfile
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from retaguarda.fiscal.certificates import CertificateError, generate_test_a1, load_pkcs12
from tests.fiscal.wire.conftest import ISSUER_CNPJ


def test_a_good_certificate_shows_its_details(a1):
    cert = load_pkcs12(a1.to_pkcs12("s3nha"), "s3nha", expected_cnpj="11.222.333/0001-81"
                       if ISSUER_CNPJ == "11222333000181" else ISSUER_CNPJ)
    summary = cert.summary()
    assert summary["cnpj"] == ISSUER_CNPJ
    assert "Wire tests CA" in summary["issuer"]
    assert summary["valid_until"] > summary["valid_from"]
    assert "s3nha" not in repr(cert) and "s3nha" not in str(summary)


def test_wrong_password(a1):
    with pytest.raises(CertificateError) as err:
        load_pkcs12(a1.to_pkcs12("right"), "wrong")
    assert err.value.code == "wrong_password" and "password" in err.value.message


def test_garbage_is_not_a_certificate():
    with pytest.raises(CertificateError) as err:
        load_pkcs12(b"not a pfx at all", "x")
    assert err.value.code in ("invalid_file", "wrong_password")


def test_expired(test_ca):
    old = test_ca.issue_a1(ISSUER_CNPJ, "VELHA", days=30,
                           not_before=datetime.now(timezone.utc) - timedelta(days=400))
    with pytest.raises(CertificateError) as err:
        load_pkcs12(old.to_pkcs12("x"), "x")
    assert err.value.code == "expired" and "expired" in err.value.message


def test_no_private_key(a1):
    only_cert = pkcs12.serialize_key_and_certificates(
        b"c", None, a1.certificate, None, serialization.BestAvailableEncryption(b"x"))
    with pytest.raises(CertificateError) as err:
        load_pkcs12(only_cert, "x")
    assert err.value.code in ("no_private_key", "invalid_file")
    assert "key" in err.value.message or "certificate" in err.value.message


def test_cnpj_mismatch_names_both(a1):
    with pytest.raises(CertificateError) as err:
        load_pkcs12(a1.to_pkcs12("x"), "x", expected_cnpj="11444777000161")
    assert err.value.code == "cnpj_mismatch"
    assert ISSUER_CNPJ in err.value.message and "11444777000161" in err.value.message


def test_cnpj_read_from_the_cn_when_the_oid_is_absent(test_ca):
    cert = test_ca.issue_a1(ISSUER_CNPJ, "SO CN", with_oid=False)
    assert load_pkcs12(cert.to_pkcs12("x"), "x", expected_cnpj=ISSUER_CNPJ).cnpj == ISSUER_CNPJ


def test_generated_sandbox_a1_round_trips():
    pfx, cert = generate_test_a1(ISSUER_CNPJ, "SANDBOX", password="p")
    assert load_pkcs12(pfx, "p", expected_cnpj=ISSUER_CNPJ).fingerprint_sha256 == cert.fingerprint_sha256


def test_ssl_context_leaves_no_pem_behind(a1):
    pattern = os.path.join(tempfile.gettempdir(), "a1-*.pem")
    before = set(glob.glob(pattern))
    ctx = a1.ssl_context()
    assert ctx is not None
    assert set(glob.glob(pattern)) == before
