"""NFCom (model 62): the ISP's telecom invoice-bill, beside the NFS-e of the fiscal context.

Pure parts: `key` (44-digit access key), `xml` (documents and messages, XSD validation), `sign`
(RSA-SHA1 XMLDSig). Wire: `backends` (sandbox, svrs, focus_nfe). Life cycle: `domain` (Nfcom,
NfcomSettings), `application` (NfcomService), `actors`. Web: `api`, `pages`. See docs/fiscal-nfcom.md.
"""
