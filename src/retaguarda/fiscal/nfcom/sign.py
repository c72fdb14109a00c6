"""XMLDSig for NFCom as the MOC fixes it (xmldsig-core-schema_v1.01.xsd): enveloped signature over
the `Id`-bearing first child (`infNFCom`, `infEvento`), RSA-SHA1, SHA-1 digest, transforms
enveloped-signature + C14N 1.0, CanonicalizationMethod C14N 1.0, KeyInfo with the end-entity
X509Certificate only, default XMLDSIG namespace (no `ds:` prefix, rule C04).

The Signature is appended as the last child of the root: third child of `NFCom` (after
infNFComSupl), second of `eventoNFCom`. Verification reuses `fiscal.xmlsign.verify`, which
accepts what the signature declares and checks that it references the signed element.
"""

from __future__ import annotations

import copy

import xmlsec
from lxml import etree

from retaguarda.fiscal.certificates import A1Certificate
from retaguarda.fiscal.xmlsign import SignatureError, Verified, verify

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

__all__ = ("SignatureError", "Verified", "sign", "verify")


def _q(tag: str) -> str:
    return f"{{{DSIG_NS}}}{tag}"


def _template(cert: A1Certificate) -> etree._Element:
    sig = etree.Element(_q("Signature"), nsmap={None: DSIG_NS})
    si = etree.SubElement(sig, _q("SignedInfo"))
    etree.SubElement(si, _q("CanonicalizationMethod")).set("Algorithm", C14N)
    etree.SubElement(si, _q("SignatureMethod")).set("Algorithm", RSA_SHA1)
    ref = etree.SubElement(si, _q("Reference"))
    transforms = etree.SubElement(ref, _q("Transforms"))
    etree.SubElement(transforms, _q("Transform")).set("Algorithm", ENVELOPED)
    etree.SubElement(transforms, _q("Transform")).set("Algorithm", C14N)
    etree.SubElement(ref, _q("DigestMethod")).set("Algorithm", SHA1)
    etree.SubElement(ref, _q("DigestValue"))
    etree.SubElement(sig, _q("SignatureValue"))
    ki = etree.SubElement(sig, _q("KeyInfo"))
    xd = etree.SubElement(ki, _q("X509Data"))
    etree.SubElement(xd, _q("X509Certificate")).text = cert.certificate_der_b64()
    return sig


_keys: dict[int, tuple[A1Certificate, xmlsec.Key, etree._Element]] = {}


def sign(root: etree._Element, certificate: A1Certificate) -> etree._Element:
    """Signs `root[0]` by its Id in place and appends the Signature to `root`; returns root."""
    target = root[0]
    ref_id = target.get("Id")
    if not ref_id:
        raise SignatureError("the element to sign has no Id attribute")
    if root.find(_q("Signature")) is not None:
        raise SignatureError("the document is already signed")
    found = _keys.get(id(certificate))
    if found is None or found[0] is not certificate:
        if len(_keys) > 64:
            _keys.clear()
        key = xmlsec.Key.from_memory(certificate.private_key_pem(), xmlsec.constants.KeyDataFormatPem)
        found = _keys[id(certificate)] = (certificate, key, _template(certificate))
    sig = copy.deepcopy(found[2])
    root.append(sig)
    sig[0][2].set("URI", f"#{ref_id}")
    ctx = xmlsec.SignatureContext()
    ctx.register_id(target, "Id")
    ctx.key = found[1]
    try:
        ctx.sign(sig)
    except xmlsec.Error as exc:  # pragma: no cover - only with a broken key
        raise SignatureError(f"signing failed: {exc}") from None
    for node in (sig[1], sig[0][2][2]):  # SignatureValue, DigestValue: no line breaks
        node.text = "".join((node.text or "").split())
    return root
