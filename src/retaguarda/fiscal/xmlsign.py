"""Enveloped XMLDSIG over the `Id`-bearing first child (infDPS, infPedReg, infNFSe, infEvento),
with python-xmlsec.

Algorithms we sign with (see docs/fiscal-wire.md for the sources): RSA-SHA256 signature,
SHA-256 digest, transforms enveloped-signature + C14N 1.0 (inclusive), CanonicalizationMethod
C14N 1.0, `Reference URI="#<Id>"`, `KeyInfo/X509Data/X509Certificate` with the signer's
certificate; the Signature is the last child of the root, in the default XMLDSIG namespace
(no `ds:` prefix), as the authority writes its own. `verify()` accepts whatever algorithms the
signature declares (SHA-1/SHA-256, inclusive/exclusive C14N) and checks that the reference
points at the signed element, so a signature over something else is refused.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import threading
from dataclasses import dataclass
from typing import Any

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from retaguarda.fiscal.certificates import A1Certificate

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
EXC_C14N_WITH_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"


class SignatureError(ValueError):
    """Missing, malformed or invalid signature; the message says which."""


_keys = threading.local()


def _prepared(cert: A1Certificate, c14n: str) -> tuple[xmlsec.Key, etree._Element]:
    """(xmlsec key, Signature template) for `cert`, built once per thread: loading a PEM key and
    serialising the certificate cost more than the signature itself."""
    cache: dict[tuple[int, str], tuple[A1Certificate, xmlsec.Key, etree._Element]] | None = \
        getattr(_keys, "cache", None)
    if cache is None:
        cache = _keys.cache = {}
    found = cache.get((id(cert), c14n))
    if found is not None and found[0] is cert:
        return found[1], found[2]
    if len(cache) > 64:
        cache.clear()
    # the key alone: the template already carries X509Certificate, and a key with its certificate
    # attached is duplicated (cert included) on every `ctx.key =`, which costs a third of a signature
    key = xmlsec.Key.from_memory(cert.private_key_pem(), xmlsec.constants.KeyDataFormatPem)
    sig = etree.Element(_q("Signature"), nsmap={None: DSIG_NS})
    si = etree.SubElement(sig, _q("SignedInfo"))
    etree.SubElement(si, _q("CanonicalizationMethod")).set("Algorithm", c14n)
    etree.SubElement(si, _q("SignatureMethod")).set("Algorithm", RSA_SHA256)
    ref = etree.SubElement(si, _q("Reference"))
    transforms = etree.SubElement(ref, _q("Transforms"))
    etree.SubElement(transforms, _q("Transform")).set(
        "Algorithm", "http://www.w3.org/2000/09/xmldsig#enveloped-signature")
    etree.SubElement(transforms, _q("Transform")).set("Algorithm", c14n)
    etree.SubElement(ref, _q("DigestMethod")).set("Algorithm", SHA256)
    etree.SubElement(ref, _q("DigestValue"))
    etree.SubElement(sig, _q("SignatureValue"))
    ki = etree.SubElement(sig, _q("KeyInfo"))
    xd = etree.SubElement(ki, _q("X509Data"))
    etree.SubElement(xd, _q("X509Certificate")).text = cert.certificate_der_b64()
    cache[(id(cert), c14n)] = (cert, key, sig)
    return key, sig


def _q(tag: str) -> str:
    return f"{{{DSIG_NS}}}{tag}"


DEFAULT_ENGINE = "xmlsec"
"""`xmlsec` (python-xmlsec: what we sign with) or `openssl` (lxml C14N + `cryptography` RSA), an
independent second implementation: RSA PKCS#1 v1.5 is deterministic, so both must produce
byte-identical documents, which the tests check (a cross-check of our XMLDSIG, not a speed-up)."""

_C14N_ARGS = {C14N: (False, False), EXC_C14N_WITH_COMMENTS: (True, True),
              "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
              "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True)}


def _c14n(el: etree._Element, algorithm: str) -> bytes:
    """C14N of `el` as the apex of a document subset. The element is copied out first: libxml2's
    inclusive C14N 1.0 of a sub-tree writes a spurious xmlns="" on children of a default namespace.
    Safe here because the signed elements carry no inherited xml:* attributes."""
    exclusive, comments = _C14N_ARGS[algorithm]
    return etree.tostring(copy.deepcopy(el), method="c14n", exclusive=exclusive, with_comments=comments)


def sign(root: etree._Element, certificate: A1Certificate, *, c14n: str = C14N,
         engine: str | None = None) -> etree._Element:
    """Signs `root[0]` (by its `Id`) in place, appending the Signature to `root`; returns root.
    `c14n`: canonicalization for SignedInfo and the reference (the authority itself uses
    EXC_C14N_WITH_COMMENTS; we default to inclusive C14N 1.0). `engine`: see DEFAULT_ENGINE."""
    target = root[0]
    ref_id = target.get("Id")
    if not ref_id:
        raise SignatureError("the element to sign has no Id attribute")
    key, template = _prepared(certificate, c14n)
    sig = copy.deepcopy(template)
    root.append(sig)
    sig[0][2].set("URI", f"#{ref_id}")  # SignedInfo/Reference
    if (engine or DEFAULT_ENGINE) == "openssl":
        # enveloped-signature is a no-op here: the Signature is a sibling of the signed element
        digest = hashlib.sha256(_c14n(target, c14n)).digest()
        sig[0][2][2].text = base64.b64encode(digest).decode()  # Reference/DigestValue
        value = certificate.private_key.sign(_c14n(sig[0], c14n), padding.PKCS1v15(), hashes.SHA256())
        sig[1].text = base64.b64encode(value).decode()
        return root
    ctx = xmlsec.SignatureContext()
    ctx.register_id(target, "Id")
    ctx.key = key
    try:
        ctx.sign(sig)
    except xmlsec.Error as exc:  # pragma: no cover - only on a broken key
        raise SignatureError(f"signing failed: {exc}") from None
    value = sig[1]
    value.text = "".join((value.text or "").split())  # outside SignedInfo: no line breaks
    return root


@dataclass(frozen=True)
class Verified:
    certificate: x509.Certificate
    reference_id: str
    signature_method: str
    digest_method: str


def signer_certificate(root: etree._Element) -> x509.Certificate:
    node = root.find(f"{_q('Signature')}/{_q('KeyInfo')}/{_q('X509Data')}/{_q('X509Certificate')}")
    if node is None or not (node.text or "").strip():
        raise SignatureError("the signature carries no X509Certificate")
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(node.text.split())))
    except Exception:  # noqa: BLE001
        raise SignatureError("the X509Certificate in the signature is not readable") from None


def verify(doc: etree._Element | bytes, *, trusted_ca: x509.Certificate | None = None,
           at: Any = None) -> Verified:
    """Verifies the enveloped signature of `doc` with the certificate it carries. With
    `trusted_ca`, also checks that this CA issued the certificate (and its validity at `at`)."""
    root = etree.fromstring(doc, etree.XMLParser(resolve_entities=False, no_network=True)) \
        if isinstance(doc, bytes) else doc
    sig = root.find(_q("Signature"))
    if sig is None:
        raise SignatureError("the document is not signed")
    target = root[0]
    target_id = target.get("Id") or ""
    refs = sig.findall(f"{_q('SignedInfo')}/{_q('Reference')}")
    if len(refs) != 1 or refs[0].get("URI") != f"#{target_id}" or not target_id:
        raise SignatureError(f"the signature must reference exactly #{target_id}")
    cert = signer_certificate(root)
    if trusted_ca is not None:
        try:
            cert.verify_directly_issued_by(trusted_ca)
        except Exception:  # noqa: BLE001
            raise SignatureError("the signing certificate was not issued by the trusted CA") from None
        if at is not None and not (cert.not_valid_before_utc <= at <= cert.not_valid_after_utc):
            raise SignatureError("the signing certificate is not valid at the signing time")
    key = xmlsec.Key.from_memory(cert.public_bytes(serialization.Encoding.PEM),
                                 xmlsec.constants.KeyDataFormatCertPem)
    ctx = xmlsec.SignatureContext()
    ctx.register_id(target, "Id")
    ctx.key = key
    try:
        ctx.verify(sig)
    except xmlsec.Error:
        raise SignatureError("the XML signature does not verify (document altered or wrong key)") from None
    sm = sig.find(f"{_q('SignedInfo')}/{_q('SignatureMethod')}")
    dm = refs[0].find(_q("DigestMethod"))
    return Verified(certificate=cert, reference_id=target_id,
                    signature_method=sm.get("Algorithm") if sm is not None else "",
                    digest_method=dm.get("Algorithm") if dm is not None else "")
