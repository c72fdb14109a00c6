"""The sandbox portal of the demo tenant: deterministic data, no network, SMS code `123456`.

Any valid CPF logs in through a phone ending in `1234` and sees company A: a solar plant whose
credits go to three beneficiary units (40 %, 35 % and 15 %; 10 % stays with the plant). A CNPJ
sees company B: two commercial units, one of them cut. Every unit has 13 monthly bills, the
newest pending with a PIX copy-paste and an energy arrecadação barcode that verify. Transaction
ids carry the document and the start time, so any process can finish a login and a code older
than 5 minutes is refused as expired.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from retaguarda.energy.codes import make_arrecadacao, make_pix
from retaguarda.energy.portal.base import (
    CodeExpired,
    LoginStart,
    NoSuchPhone,
    PortalSession,
    UnknownTransaction,
    WrongCode,
)

CODE = "123456"
PHONE = "66*****1234"
SMS_SECONDS = 300
ENERGISA_CNPJ = "03467321000199"
PLANT = 4160693
BENEFICIARIES = ((4160701, 40, "Loja Centro"), (4160702, 35, "Deposito"), (4160703, 15, "Escritorio"))
COMPANY_B = ((5230011, False), (5230028, True))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class SandboxPortal:
    def __init__(self, today: Callable[[], date], now: Callable[[], float] = time.time) -> None:
        self._today = today
        self._now = now

    # Login ---------------------------------------------------------------------------------
    def start_login(self, document: str, phone_last4: str) -> LoginStart:
        if phone_last4 != PHONE[-4:]:
            raise NoSuchPhone(f"no phone ending in {phone_last4} (the sandbox offers {PHONE})")
        return LoginStart(transaction_id=f"sbx.{document}.{int(self._now())}", phones=[PHONE])

    def finish_login(self, transaction_id: str, code: str) -> PortalSession:
        parts = transaction_id.split(".")
        if len(parts) != 3 or parts[0] != "sbx" or not parts[2].isdigit():
            raise UnknownTransaction("no login waits under this transaction id")
        if self._now() - int(parts[2]) > SMS_SECONDS:
            raise CodeExpired("the SMS code expired; connect again")
        if code != CODE:
            raise WrongCode("the SMS code is not valid")
        return PortalSession(
            document=parts[1],
            cookies={"sandbox": "1"},
            tokens={"ate": f"sandbox-{parts[2]}", "refreshToken": "sandbox"},
        )

    # Data ----------------------------------------------------------------------------------
    def _units(self, document: str) -> list[dict[str, Any]]:
        rows: Sequence[tuple[int, bool, int | None, str]]
        if len(document) == 11:
            rows = [(PLANT, False, PLANT, "Usina Solar")] + [
                (n, False, PLANT, name) for n, _, name in BENEFICIARIES
            ]
        else:
            rows = [(n, cut, None, "Comercio") for n, cut in COMPANY_B]
        return [
            {
                "codigoEmpresaWeb": 6,
                "numeroUc": number,
                "digitoVerificador": number % 10,
                "ucAtiva": True,
                "ucCortada": cut,
                "indicadorCorte": cut,
                "baixaRenda": False,
                "nomeMunicipio": "CUIABA",
                "uf": "MT",
                "bairro": "CENTRO",
                "endereco": f"RUA {name.upper()}",
                "numeroImovel": str(number % 1000),
                "classeLeitura": "COMERCIAL",
                "geracaoDistribuida": generator,
            }
            for number, cut, generator, name in rows
        ]

    def list_units(self, session: PortalSession) -> list[dict[str, Any]]:
        return self._units(session.document)

    def gd_info(self, session: PortalSession, unit: dict[str, Any]) -> dict[str, Any]:
        if unit["numeroUc"] != PLANT:
            return {"ucGeradora": False, "listaBeneficiarias": []}
        return {
            "ucGeradora": True,
            "qtdKwhSaldo": 1523.7,
            "percentualCompensacao": 100,
            "listaBeneficiarias": [
                {
                    "codigoEmpresaWeb": 6,
                    "cdc": n,
                    "digitoVerificador": n % 10,
                    "nome": name,
                    "percentualRecebido": pct,
                }
                for n, pct, name in BENEFICIARIES
            ],
        }

    def list_bills(self, session: PortalSession, unit: dict[str, Any]) -> list[dict[str, Any]]:
        number = int(unit["numeroUc"])
        today = self._today()
        bills = []
        for k in range(13):
            ref = _add_months(today, -1 - k)
            amount = round(80 + number % 97 + k * 3.17 + 0.04, 2)
            if k == 0:
                due = today + timedelta(days=2 + number % 6)
                paid = None
            else:
                due = _add_months(ref, 1) + timedelta(days=9)
                paid = due - timedelta(days=2) if k != 3 else due + timedelta(days=4)
            item: dict[str, Any] = {
                "cdcVinculado": number,
                "digitoVerificadorCdc": number % 10,
                "numeroFatura": int(f"{ref.year % 100:02d}{ref.month:02d}{number % 100000:05d}"),
                "mesReferencia": ref.month,
                "anoReferencia": ref.year,
                "valorFatura": amount,
                "valorICMS": round(amount * 0.17, 2),
                "valorIluminacaoPublica": 12.5,
                "detalhamentoFatura": {
                    "servicoDistribuicaoEnergia": round(amount * 0.4, 2),
                    "compraEnergia": round(amount * 0.3, 2),
                },
                "dataVencimentoISO": f"{due.isoformat()}T00:00:00",
                "dataPagamentoISO": f"{paid.isoformat()}T00:00:00" if paid else None,
                "situacaoPagamento": "Pendente"
                if paid is None
                else ("Pago fora do prazo" if paid > due else "Pago no prazo"),
                "indicadorPagamento": paid is not None,
                "consumo": 150 + (number + k * 7) % 200,
                "bandeiraTarifaria": "Verde" if k % 3 else "Amarela",
                "qrCodePix": None,
                "codigoBarra": None,
            }
            if paid is None:
                value = Decimal(repr(amount)).quantize(Decimal("0.01"))
                item["qrCodePix"] = make_pix(
                    key=ENERGISA_CNPJ,
                    name="ENERGISA MT",
                    city="CUIABA",
                    amount=value,
                    txid=f"UC{number}R{ref.year}{ref.month:02d}",
                )
                item["codigoBarra"] = make_arrecadacao(value, "0019", f"{due:%Y%m%d}{number:017d}")
            bills.append(item)
        return bills

    def download_pdf(self, session: PortalSession, unit: dict[str, Any], bill: dict[str, Any]) -> bytes:
        text = f"Energisa sandbox - UC {unit['numeroUc']} - fatura {bill.get('numeroFatura')}"
        return _tiny_pdf(text)


def _tiny_pdf(text: str) -> bytes:
    """A one-page PDF showing `text` (ASCII), valid enough for any viewer."""
    safe = text.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 14 Tf 40 780 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
