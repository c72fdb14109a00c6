"""A simulated Sefin Nacional: the document rules of the authority, without HTTP.

Used in-process by the sandbox backend and, behind a real mTLS HTTP server, by the fake Sefin in
`tests/fakes/fiscal/`. It receives the same JSON bodies the real API receives and answers
(HTTP status, JSON body) the way the real one does (see docs/fiscal-wire.md):

- POST /nfse: gunzip+base64 (E1225), parse + validate against DPS_v1.01.xsd (E1235), verify the
  XML signature and that the signer's CNPJ is the prestador's, check tpAmb, the tomador's CPF/CNPJ
  check digits and a repeated DPS Id -> 201 with `chaveAcesso` and `nfseXmlGZipB64` (an NFSe valid
  against NFSe_v1.01.xsd, embedding the DPS, signed by the authority like the real one).
- GET /nfse/{key}, GET /dps/{id}, POST /nfse/{key}/eventos (e101101), DANFSe PDF.
Codes not verified from sources are prefixed `SIM-` (simulated) so nobody mistakes them.
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lxml import etree
from stdnum.br import cnpj as _cnpj
from stdnum.br import cpf as _cpf

from retaguarda.fiscal import dps as D
from retaguarda.fiscal import xmlsign
from retaguarda.fiscal.certificates import A1Certificate, TestCA, generate_test_ca
from retaguarda.fiscal.taxes import cents
from retaguarda.shared.clock import SAO_PAULO, Clock, SystemClock

NS = D.NS
MUNICIPALITIES = {
    "3550308": ("São Paulo", "SP"), "3304557": ("Rio de Janeiro", "RJ"),
    "3106200": ("Belo Horizonte", "MG"), "4106902": ("Curitiba", "PR"),
    "4314902": ("Porto Alegre", "RS"), "5300108": ("Brasília", "DF"),
    "2927408": ("Salvador", "BA"), "2304400": ("Fortaleza", "CE"), "2611606": ("Recife", "PE"),
    "1302603": ("Manaus", "AM"), "4205407": ("Florianópolis", "SC"), "5208707": ("Goiânia", "GO"),
    "3509502": ("Campinas", "SP"), "1505486": ("Pacajá", "PA"),
}
SERVICES = {
    "010101": "Análise e desenvolvimento de sistemas.",
    "010201": "Programação.",
    "010301": "Processamento de dados, textos, imagens, vídeos, páginas eletrônicas, aplicativos "
              "e sistemas de informação, entre outros formatos, e congêneres.",
    "010401": "Elaboração de programas de computadores, inclusive de jogos eletrônicos, "
              "independentemente da arquitetura construtiva da máquina em que o programa será "
              "executado, incluindo tablets, smartphones e congêneres.",
    "010501": "Licenciamento ou cessão de direito de uso de programas de computação.",
    "010601": "Assessoria e consultoria em informática.",
    "010701": "Suporte técnico em informática, inclusive instalação, configuração e manutenção "
              "de programas de computação e bancos de dados.",
    "010801": "Planejamento, confecção, manutenção e atualização de páginas eletrônicas.",
    "010901": "Disponibilização, sem cessão definitiva, de conteúdos de áudio, vídeo, imagem e "
              "texto por meio da internet.",
    "140101": "Lubrificação, limpeza, lustração, revisão, carga e recarga, conserto, restauração, "
              "blindagem, manutenção e conservação de máquinas, veículos, aparelhos, "
              "equipamentos, motores, elevadores ou de qualquer objeto.",
    "170101": "Assessoria ou consultoria de qualquer natureza, não contida em outros itens desta "
              "lista.",
    "171901": "Contabilidade, inclusive serviços técnicos e auxiliares.",
}
DEFAULT_RATES = {"cbs": Decimal("0.90"), "ibs_uf": Decimal("0.10"), "ibs_mun": Decimal("0.00")}


def _err(code: str, description: str, complement: str | None = None) -> dict[str, Any]:
    item = {"Codigo": code, "Descricao": description}
    if complement:
        item["Complemento"] = complement
    return item


@dataclass
class RegisteredNote:
    access_key: str
    dps_id: str
    issuer_document: str
    nfse_xml: bytes
    number: int
    processed_at: datetime
    events: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Contributor:
    """What the national register (CNC) knows of an issuer (the DPS does not carry it)."""

    name: str
    street: str = "Rua do Contribuinte"
    number: str = "100"
    district: str = "Centro"
    municipality_ibge: str = "3550308"
    uf: str = "SP"
    cep: str = "01001000"
    email: str | None = None


class SimulatedAuthority:
    """Thread-safe in-memory authority. `trusted_ca`: when set, a DPS signed by a certificate
    this CA did not issue is refused (the real one requires ICP-Brasil)."""

    def __init__(self, *, clock: Clock | None = None, environment: str = "producao_restrita",
                 trusted_ca: Any = None, signer: A1Certificate | None = None,
                 rates: dict[str, Decimal] | None = None) -> None:
        self.clock = clock or SystemClock()
        self.tp_amb = D.TP_AMB[environment]
        self.trusted_ca = trusted_ca
        self.rates = rates or dict(DEFAULT_RATES)
        ca = generate_test_ca("Simulated Sefin Nacional CA")
        self.signer = signer or ca.issue_a1("00394460005887", "SEFIN NACIONAL SIMULADA")
        self.signer_ca: TestCA | None = None if signer else ca
        self.contributors: dict[str, Contributor] = {}
        self.notes: dict[str, RegisteredNote] = {}
        self.by_dps: dict[str, str] = {}
        self._lock = threading.Lock()
        self._next_number: dict[str, int] = {}
        self._nsu = 0

    # ---------------------------------------------------------------- helpers

    def register_contributor(self, document: str, contributor: Contributor) -> None:
        self.contributors[document] = contributor

    def _envelope(self) -> dict[str, Any]:
        return {"tipoAmbiente": int(self.tp_amb), "versaoAplicativo": "SefinNacional_SIM_1.0",
                "dataHoraProcessamento": self.clock.now().astimezone(SAO_PAULO).replace(
                    microsecond=0).isoformat()}

    def _reject(self, status: int, *errors: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return status, {**self._envelope(), "erros": list(errors)}

    # ---------------------------------------------------------------- emission

    def receive_dps(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        packed = body.get("dpsXmlGZipB64") if isinstance(body, dict) else None
        if not isinstance(packed, str):
            return self._reject(400, _err("E1225", "Falha na descompactação do XML da DPS.",
                                          "campo dpsXmlGZipB64 ausente"))
        try:
            xml = D.unpack(packed)
        except Exception:  # noqa: BLE001
            return self._reject(400, _err("E1225", "Falha na descompactação do XML da DPS."))
        try:
            root = D.parse(xml)
            D.validate(root, "DPS")
        except D.SchemaError as exc:
            return self._reject(400, _err("E1235", "Falha no esquema XML da DPS.",
                                          "; ".join(exc.errors[:3])))
        except etree.XMLSyntaxError as exc:
            return self._reject(400, _err("E1235", "XML da DPS mal formado.", str(exc)))
        inf = root[0]
        ns = {"n": NS}
        prest_doc = inf.findtext("n:prest/n:CNPJ", namespaces=ns) or inf.findtext(
            "n:prest/n:CPF", namespaces=ns) or ""
        try:
            verified = xmlsign.verify(root, trusted_ca=self.trusted_ca, at=self.clock.now())
        except xmlsign.SignatureError as exc:
            return self._reject(400, _err("SIM-E0714", "Assinatura digital da DPS inválida.", str(exc)))
        from retaguarda.fiscal.certificates import cnpj_from_certificate

        signer_doc = cnpj_from_certificate(verified.certificate)
        if signer_doc != prest_doc:
            return self._reject(400, _err(
                "SIM-E0715", "O certificado que assinou a DPS não pertence ao prestador.",
                f"certificado {signer_doc}, prestador {prest_doc}"))
        if inf.findtext("n:tpAmb", namespaces=ns) != self.tp_amb:
            return self._reject(400, _err("SIM-E0002", "Tipo de ambiente da DPS difere do ambiente "
                                                       "do serviço."))
        toma_cpf = inf.findtext("n:toma/n:CPF", namespaces=ns)
        toma_cnpj = inf.findtext("n:toma/n:CNPJ", namespaces=ns)
        if toma_cpf and not _cpf.is_valid(toma_cpf):
            return self._reject(400, _err("SIM-E0215", "CPF do tomador inválido.", toma_cpf[:3] + "..."))
        if toma_cnpj and not _cnpj.is_valid(toma_cnpj):
            return self._reject(400, _err("SIM-E0216", "CNPJ do tomador inválido."))
        if prest_doc and not (_cnpj.is_valid(prest_doc) if len(prest_doc) == 14 else _cpf.is_valid(prest_doc)):
            return self._reject(400, _err("E0160", "CNPJ do prestador inválido ou não cadastrado."))
        c_trib = inf.findtext("n:serv/n:cServ/n:cTribNac", namespaces=ns) or ""
        if c_trib[:2] == "00" or c_trib[2:4] == "00":
            return self._reject(400, _err("E0310", "O código de tributação nacional informado não "
                                                   "existe conforme a lista de serviços nacional."))
        dh_emi = datetime.fromisoformat(inf.findtext("n:dhEmi", namespaces=ns))
        if dh_emi > self.clock.now() + timedelta(minutes=5):
            return self._reject(400, _err("SIM-E0008", "Data/hora de emissão posterior à data de "
                                                       "processamento."))
        dps_id = inf.get("Id")
        with self._lock:
            if dps_id in self.by_dps:
                return self._reject(409, _err(
                    "SIM-E0014", "DPS já processada: existe NFS-e gerada para este Id de DPS.",
                    f"chaveAcesso {self.by_dps[dps_id]}"))
            number = self._next_number.get(prest_doc, 0) + 1
            self._next_number[prest_doc] = number
            self._nsu += 1
            nsu = self._nsu
            now = self.clock.now()
            c_loc_emi = inf.findtext("n:cLocEmi", namespaces=ns)
            key = D.make_access_key(c_loc_emi, prest_doc, number, now.astimezone(SAO_PAULO),
                                    secrets.randbelow(10**9))
            nfse = self._build_nfse(root, key, number, nsu, now, prest_doc)
            note = RegisteredNote(access_key=key, dps_id=dps_id, issuer_document=prest_doc,
                                  nfse_xml=nfse, number=number, processed_at=now)
            self.notes[key] = note
            self.by_dps[dps_id] = key
        return 201, {**self._envelope(), "idDps": dps_id, "chaveAcesso": key,
                     "nfseXmlGZipB64": D.pack(nfse), "alertas": []}

    def _build_nfse(self, dps_root: etree._Element, key: str, number: int, nsu: int,
                    now: datetime, prest_doc: str) -> bytes:
        ns = {"n": NS}
        inf = dps_root[0]
        q = D._q  # noqa: SLF001 - same module family
        contributor = self.contributors.get(prest_doc) or Contributor(name=f"CONTRIBUINTE {prest_doc}")
        c_loc_emi = inf.findtext("n:cLocEmi", namespaces=ns)
        c_loc_prest = inf.findtext("n:serv/n:locPrest/n:cLocPrestacao", namespaces=ns) or c_loc_emi
        c_trib = inf.findtext("n:serv/n:cServ/n:cTribNac", namespaces=ns)
        v_serv = Decimal(inf.findtext("n:valores/n:vServPrest/n:vServ", namespaces=ns))
        v_dr = Decimal(inf.findtext("n:valores/n:vDedRed/n:vDR", namespaces=ns) or "0")
        p_aliq = Decimal(inf.findtext("n:valores/n:trib/n:tribMun/n:pAliq", namespaces=ns) or "2.00")
        withheld = inf.findtext("n:valores/n:trib/n:tribMun/n:tpRetISSQN", namespaces=ns) != "1"
        v_bc = cents(v_serv - v_dr)
        v_iss = cents(v_bc * p_aliq / 100)
        v_ret = v_iss if withheld else Decimal("0.00")
        v_liq = cents(v_serv - v_ret)

        root = etree.Element(q("NFSe"), nsmap={None: NS})
        root.set("versao", D.VERSION)
        i = D._sub(root, "infNFSe")  # noqa: SLF001
        i.set("Id", "NFS" + key)
        D._sub(i, "xLocEmi", MUNICIPALITIES.get(c_loc_emi, (f"Município {c_loc_emi}",))[0])  # noqa: SLF001
        D._sub(i, "xLocPrestacao", MUNICIPALITIES.get(c_loc_prest, (f"Município {c_loc_prest}",))[0])  # noqa: SLF001
        D._sub(i, "nNFSe", str(number))  # noqa: SLF001
        D._sub(i, "cLocIncid", c_loc_prest)  # noqa: SLF001
        D._sub(i, "xLocIncid", MUNICIPALITIES.get(c_loc_prest, (f"Município {c_loc_prest}",))[0])  # noqa: SLF001
        D._sub(i, "xTribNac", SERVICES.get(c_trib, f"Serviço {c_trib}")[:600])  # noqa: SLF001
        D._sub(i, "verAplic", "SefinNac_SIM_1.0")  # noqa: SLF001
        D._sub(i, "ambGer", "2")  # noqa: SLF001
        D._sub(i, "tpEmis", "1")  # noqa: SLF001
        D._sub(i, "procEmi", "1")  # noqa: SLF001
        D._sub(i, "cStat", "100")  # noqa: SLF001
        D._sub(i, "dhProc", D.date_time(now))  # noqa: SLF001
        D._sub(i, "nDFSe", str(nsu))  # noqa: SLF001
        emit = D._sub(i, "emit")  # noqa: SLF001
        D._sub(emit, "CNPJ" if len(prest_doc) == 14 else "CPF", prest_doc)  # noqa: SLF001
        im = inf.findtext("n:prest/n:IM", namespaces=ns)
        if im:
            D._sub(emit, "IM", im)  # noqa: SLF001
        D._sub(emit, "xNome", contributor.name[:300])  # noqa: SLF001
        end = D._sub(emit, "enderNac")  # noqa: SLF001
        for tag, value in (("xLgr", contributor.street), ("nro", contributor.number),
                           ("xBairro", contributor.district), ("cMun", contributor.municipality_ibge),
                           ("UF", contributor.uf), ("CEP", contributor.cep)):
            D._sub(end, tag, value)  # noqa: SLF001
        if contributor.email:
            D._sub(emit, "email", contributor.email)  # noqa: SLF001
        val = D._sub(i, "valores")  # noqa: SLF001
        if v_dr > 0:
            D._sub(val, "vCalcDR", f"{v_dr:.2f}")  # noqa: SLF001
        D._sub(val, "vBC", f"{v_bc:.2f}")  # noqa: SLF001
        D._sub(val, "pAliqAplic", f"{p_aliq:.2f}")  # noqa: SLF001
        D._sub(val, "vISSQN", f"{v_iss:.2f}")  # noqa: SLF001
        D._sub(val, "vTotalRet", f"{v_ret:.2f}")  # noqa: SLF001
        D._sub(val, "vLiq", f"{v_liq:.2f}")  # noqa: SLF001
        if inf.find("n:IBSCBS", namespaces=ns) is not None:
            base = cents(v_serv - v_iss)
            cbs = cents(base * self.rates["cbs"] / 100)
            ibs_uf = cents(base * self.rates["ibs_uf"] / 100)
            ibs_mun = cents(base * self.rates["ibs_mun"] / 100)
            g = D._sub(i, "IBSCBS")  # noqa: SLF001
            D._sub(g, "cLocalidadeIncid", c_loc_prest)  # noqa: SLF001
            D._sub(g, "xLocalidadeIncid", MUNICIPALITIES.get(c_loc_prest, (f"Município {c_loc_prest}",))[0])  # noqa: SLF001
            gv = D._sub(g, "valores")  # noqa: SLF001
            D._sub(gv, "vBC", f"{base:.2f}")  # noqa: SLF001
            for grp, p_tag, e_tag, rate in (("uf", "pIBSUF", "pAliqEfetUF", self.rates["ibs_uf"]),
                                            ("mun", "pIBSMun", "pAliqEfetMun", self.rates["ibs_mun"]),
                                            ("fed", "pCBS", "pAliqEfetCBS", self.rates["cbs"])):
                el = D._sub(gv, grp)  # noqa: SLF001
                D._sub(el, p_tag, f"{rate:.2f}")  # noqa: SLF001
                D._sub(el, e_tag, f"{rate:.2f}")  # noqa: SLF001
            tot = D._sub(g, "totCIBS")  # noqa: SLF001
            D._sub(tot, "vTotNF", f"{v_liq:.2f}")  # noqa: SLF001
            gi = D._sub(tot, "gIBS")  # noqa: SLF001
            D._sub(gi, "vIBSTot", f"{ibs_uf + ibs_mun:.2f}")  # noqa: SLF001
            D._sub(D._sub(gi, "gIBSUFTot"), "vIBSUF", f"{ibs_uf:.2f}")  # noqa: SLF001
            D._sub(D._sub(gi, "gIBSMunTot"), "vIBSMun", f"{ibs_mun:.2f}")  # noqa: SLF001
            D._sub(D._sub(tot, "gCBS"), "vCBS", f"{cbs:.2f}")  # noqa: SLF001
        i.append(etree.fromstring(etree.tostring(dps_root)))
        xmlsign.sign(root, self.signer, c14n=xmlsign.EXC_C14N_WITH_COMMENTS)
        return D.to_bytes(root)

    # ---------------------------------------------------------------- queries

    def get_nfse(self, key: str) -> tuple[int, dict[str, Any]]:
        note = self.notes.get(key)
        if note is None:
            return self._reject(404, _err("SIM-E404", "NFS-e não encontrada para a chave de acesso."))
        return 200, {**self._envelope(), "chaveAcesso": key, "nfseXmlGZipB64": D.pack(note.nfse_xml)}

    def get_dps(self, dps_id: str) -> tuple[int, dict[str, Any]]:
        key = self.by_dps.get(dps_id)
        if key is None:
            return self._reject(404, _err("SIM-E404", "Nenhuma NFS-e gerada para este Id de DPS."))
        return 200, {**self._envelope(), "idDps": dps_id, "chaveAcesso": key}

    # ---------------------------------------------------------------- events

    def receive_event(self, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        packed = body.get("pedidoRegistroEventoXmlGZipB64") if isinstance(body, dict) else None
        try:
            xml = D.unpack(packed)  # type: ignore[arg-type]
            root = D.parse(xml)
            D.validate(root, "pedRegEvento")
        except D.SchemaError as exc:
            return self._reject(400, _err("E1235", "Falha no esquema XML do pedido de evento.",
                                          "; ".join(exc.errors[:3])))
        except Exception:  # noqa: BLE001
            return self._reject(400, _err("E1225", "Falha na descompactação do pedido de evento."))
        ns = {"n": NS}
        inf = root[0]
        if inf.findtext("n:chNFSe", namespaces=ns) != key:
            return self._reject(400, _err("SIM-E1801", "Chave do evento difere da chave do recurso."))
        try:
            verified = xmlsign.verify(root, trusted_ca=self.trusted_ca, at=self.clock.now())
        except xmlsign.SignatureError as exc:
            return self._reject(400, _err("SIM-E0714", "Assinatura digital do evento inválida.", str(exc)))
        from retaguarda.fiscal.certificates import cnpj_from_certificate

        author = inf.findtext("n:CNPJAutor", namespaces=ns) or inf.findtext("n:CPFAutor", namespaces=ns)
        if cnpj_from_certificate(verified.certificate) != author:
            return self._reject(400, _err("SIM-E0715", "O certificado que assinou o evento não é do autor."))
        with self._lock:
            note = self.notes.get(key)
            if note is None:
                if not D.valid_access_key(key) or key[9:23] != (
                        author if len(author) == 14 else "000" + author):
                    return self._reject(404, _err("SIM-E404", "NFS-e não encontrada."))
                # the sandbox forgets notes when the process restarts: accept keys it issued
                note = RegisteredNote(access_key=key, dps_id="", issuer_document=author,
                                      nfse_xml=b"", number=int(key[23:36]), processed_at=self.clock.now())
                self.notes[key] = note
            if note.issuer_document != author:
                return self._reject(400, _err("SIM-E1802", "O autor do evento não é o emitente da NFS-e."))
            if D.CANCEL_EVENT in note.events:
                return self._reject(400, _err("SIM-E1830", "NFS-e já cancelada: evento de "
                                                           "cancelamento já registrado."))
            self._nsu += 1
            event = self._build_event(root, key, self._nsu)
            note.events[D.CANCEL_EVENT] = event
        return 201, {**self._envelope(), "eventoXmlGZipB64": D.pack(event)}

    def _build_event(self, ped: etree._Element, key: str, nsu: int) -> bytes:
        root = etree.Element(D._q("evento"), nsmap={None: NS})  # noqa: SLF001
        root.set("versao", D.VERSION)
        inf = D._sub(root, "infEvento")  # noqa: SLF001
        inf.set("Id", f"EVT{key}{D.CANCEL_EVENT}001")
        D._sub(inf, "verAplic", "SefinNac_SIM_1.0")  # noqa: SLF001
        D._sub(inf, "ambGer", "2")  # noqa: SLF001
        D._sub(inf, "nSeqEvento", "1")  # noqa: SLF001
        D._sub(inf, "dhProc", D.date_time(self.clock.now()))  # noqa: SLF001
        D._sub(inf, "nDFSe", str(nsu))  # noqa: SLF001
        inf.append(etree.fromstring(etree.tostring(ped)))
        xmlsign.sign(root, self.signer, c14n=xmlsign.EXC_C14N_WITH_COMMENTS)
        return D.to_bytes(root)

    def get_event(self, key: str, event_type: str, seq: int) -> tuple[int, dict[str, Any]]:
        note = self.notes.get(key)
        event = note.events.get(event_type) if note else None
        if event is None or seq != 1:
            return self._reject(404, _err("SIM-E404", "Evento não encontrado."))
        return 200, {**self._envelope(), "eventoXmlGZipB64": D.pack(event)}

    def is_cancelled(self, key: str) -> bool:
        note = self.notes.get(key)
        return bool(note and D.CANCEL_EVENT in note.events)

    # ---------------------------------------------------------------- DANFSe

    def danfse_pdf(self, key: str) -> bytes | None:
        if key not in self.notes:
            return None
        return simple_pdf([f"DANFSe (SIMULADO) - NFS-e {self.notes[key].number}",
                           f"Chave de acesso: {key}",
                           "CANCELADA" if self.is_cancelled(key) else "Situação: gerada"])


def simple_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF with text lines (Helvetica), no dependencies."""
    text = "BT /F1 11 Tf 50 780 Td 14 TL " + " ".join(
        "(" + ln.encode("latin-1", "replace").decode("latin-1").replace("\\", "\\\\")
        .replace("(", "\\(").replace(")", "\\)") + ") '" for ln in lines) + " ET"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(text.encode("latin-1")) + text.encode("latin-1") + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def municipality_name(ibge: str) -> str:
    return MUNICIPALITIES.get(ibge, (f"Município {ibge}",))[0]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")
