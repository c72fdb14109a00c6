"""A fake Energisa customer portal on 127.0.0.1: the login pages and the JSON API.

    with start_fake_portal() as portal:
        client = EnergisaPortal(portal.base_url, browser=InlineBrowser(browser))
        portal.faults.add("401")          # the next data call answers 401 (refresh needed)

Pages (plain HTML forms, the same steps as the real site): `GET /login` (CPF form, button
"ENTRAR") → phone choice (labels with the masked phones, button "AVANÇAR") → the SMS form
(`input[name=codigo]`, "AVANÇAR") → `/login/listagem-ucs`, which stores the tokens in
localStorage (`accessTokenEnergisa`, `udk`, `utk`, `rtk`) and sets the session cookies. The SMS
code "sent" is `portal.code` (default 246810).

JSON API (`{"infos", "errored", "codigo", "mensagem"}`): UC list, GD context, bill list, the
refresh call, UC selection and the PDF download. Every data call needs a current access token
(`ate` in the body); the refresh call swaps it for a new one.

Faults (`portal.faults`, each used once unless noted): "401" (the current token dies: the next
data call answers 401), "refresh_fails" (the refresh call answers 401 too), "denied" (the next
request answers an Akamai-like "Access Denied" page), "expired_sms" (the next code is refused as
expired), "slow" (the next data call waits `portal.slow_seconds`). `portal.failing_units` (kept)
makes the bill list of those UC numbers answer 500 with `errored: true`. The PDF answers 412
unless the UC was selected (`SelecionarUc`) first.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from retaguarda.billing.boleto import mod11_arrecadacao
from retaguarda.billing.pix import build_brcode
from tests.fakes.fiscal.common import FakeHttpServer

PLANT = 7001001
BENEFICIARIES = ((7001002, 50), (7001003, 30))
OTHER = 7001009
DENIED_PAGE = (
    b"<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>"
    b"<p>You don't have permission to access this server. Reference #18.abc</p></body></html>"
)


def energy_barcode(amount: Decimal, free: str) -> str:
    body = "838" + f"{int(amount * 100):011d}" + "0019" + free.zfill(25)[:25]
    return body[:3] + str(mod11_arrecadacao(body)) + body[3:]


@dataclass
class FakePortal:
    server: FakeHttpServer | None = None
    code: str = "246810"
    phones: tuple[str, ...] = ("66*****7647", "65*****1234")
    faults: list[str] = field(default_factory=list)
    failing_units: set[int] = field(default_factory=set)
    slow_seconds: float = 0.5
    tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    selected: dict[str, int] = field(default_factory=dict)  # access token chain id → selected UC
    logins: dict[str, dict[str, Any]] = field(default_factory=dict)  # login cookie → state
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return self.server.base_url

    def take(self, fault: str) -> bool:
        with self.lock:
            if fault in self.faults:
                self.faults.remove(fault)
                return True
        return False

    def count(self, path_part: str) -> int:
        with self.lock:
            return sum(1 for c in self.calls if path_part in c)

    def new_session(self, document: str = "52998224725") -> dict[str, Any]:
        """Tokens and cookies as a finished login would leave them (for tests of the data calls)."""
        ate, rtk = "ate-" + secrets.token_hex(8), "rtk-" + secrets.token_hex(8)
        with self.lock:
            self.tokens.add(ate)
            self.refresh_tokens.add(rtk)
        return {
            "document": document,
            "cookies": {"rtk": rtk, "cpf": document},
            "tokens": {"ate": ate, "udk": "udk-1", "utk": "utk-1", "refreshToken": rtk, "retk": ""},
        }

    # Data ------------------------------------------------------------------------------------
    def units(self) -> list[dict[str, Any]]:
        rows = [(PLANT, PLANT), *((n, PLANT) for n, _ in BENEFICIARIES), (OTHER, None)]
        return [
            {
                "codigoEmpresaWeb": 6,
                "numeroUc": n,
                "digitoVerificador": n % 7,
                "ucAtiva": True,
                "ucCortada": n == OTHER,
                "ucDesligada": False,
                "baixaRenda": False,
                "nomeMunicipio": "SINOP",
                "uf": "MT",
                "bairro": "JARDIM",
                "endereco": "AV DAS ITAUBAS",
                "numeroImovel": str(n % 100),
                "complemento": None,
                "classeLeitura": "RESIDENCIAL",
                "geracaoDistribuida": g,
                "indicadorCorte": n == OTHER,
                "latitude": -11.86,
                "longitude": -55.5,
            }
            for n, g in rows
        ]

    def bills(self, uc: int) -> list[dict[str, Any]]:
        out = []
        for k in range(13):
            month, year = 11 - k, 2026
            while month <= 0:
                month, year = month + 12, year - 1
            amount = 114.04 + k + (uc % 10) / 100  # floats as the portal sends them
            pending = k == 0
            value = Decimal(repr(round(amount, 2)))
            item = {
                "cdcVinculado": uc,
                "digitoVerificadorCdc": uc % 7,
                "numeroFatura": 90000 + uc % 1000 * 20 + k,
                "mesReferencia": month,
                "anoReferencia": year,
                "valorFatura": round(amount, 2),
                "valorICMS": 19.39,
                "valorIluminacaoPublica": 10.1,
                "detalhamentoFatura": {"servicoDistribuicaoEnergia": 45.6, "compraEnergia": 30.1},
                "dataVencimento": f"10/{(month % 12) + 1:02d}/{year + (month == 12)}",
                "dataVencimentoISO": f"{year + (month == 12)}-{(month % 12) + 1:02d}-10T00:00:00",
                "dataPagamento": None if pending else f"08/{(month % 12) + 1:02d}/{year + (month == 12)}",
                "dataPagamentoISO": None
                if pending
                else f"{year + (month == 12)}-{(month % 12) + 1:02d}-08T00:00:00",
                "situacaoPagamento": "Pendente" if pending else "Pago no prazo",
                "indicadorPagamento": not pending,
                "indicadorSituacao": 2,
                "consumo": 210 + k,
                "bandeiraTarifaria": "Vermelha",
                "codigoBarra": None,
                "codigoBarraFaturaLis": None,
                "qrCodePix": None,
                "qrCodePixImage64": None,
            }
            if pending:
                item["qrCodePix"] = build_brcode(
                    key="03467321000199",
                    merchant_name="ENERGISA MT",
                    merchant_city="CUIABA",
                    amount=value,
                    txid=f"F{uc}",
                )
                item["codigoBarraFaturaLis"] = energy_barcode(value, f"20261210{uc:017d}")
            out.append(item)
        return out

    def pdf(self, uc: int, number: Any) -> bytes:
        return (
            b"%PDF-1.4\n% fake energisa bill\n"
            + f"UC {uc} fatura {number}\n".encode()
            + b"trailer\n<<>>\n%%EOF\n"
        )

    # HTTP ------------------------------------------------------------------------------------
    def app(self, handler: Any, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(path)
        with self.lock:
            self.calls.append(f"{method} {url.path}")
        if self.take("denied"):
            return 403, {"Content-Type": "text/html"}, DENIED_PAGE
        cookies = {k: m.value for k, m in SimpleCookie(handler.headers.get("Cookie", "")).items()}
        if url.path.startswith("/login"):
            return self.page(method, url.path, body, cookies)
        if url.path.startswith("/api/"):
            if self.take("slow"):
                time.sleep(self.slow_seconds)
            return self.api(url.path, parse_qs(url.query), body, cookies)
        return 404, {"Content-Type": "text/html"}, b"<html><title>404</title></html>"

    def page(
        self, method: str, path: str, body: bytes, cookies: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        state = self.logins.get(cookies.get("loginTx", ""))
        if path == "/login" and method == "GET":
            return _html(
                "Energisa - Login",
                '<form method="post" action="/login"><label for="cpf">CPF/CNPJ</label>'
                '<input id="cpf" name="cpf"><button type="submit">ENTRAR</button></form>',
            )
        if path == "/login" and method == "POST":
            tx = secrets.token_hex(8)
            self.logins[tx] = {"cpf": form.get("cpf", ""), "sent": None}
            options = "".join(
                f'<label><input type="radio" name="telefone" value="{i}">{escape(p)}</label>'
                for i, p in enumerate(self.phones)
            )
            return _html(
                "Selecionar número",
                f'<form method="post" action="/login/selecionar-numero">{options}'
                '<button type="submit">AVANÇAR</button></form>',
                {"Set-Cookie": f"loginTx={tx}; Path=/"},
            )
        if path == "/login/selecionar-numero" and state is not None:
            state["sent"] = time.monotonic()
            return _html("Código de acesso", _sms_form(""))
        if path == "/login/codigo-acesso" and state is not None:
            if self.take("expired_sms"):
                return _html("Código de acesso", _sms_form("Código expirado. Solicite um novo código."))
            if form.get("codigo") != self.code:
                return _html("Código de acesso", _sms_form("Código inválido"))
            session = self.new_session(state["cpf"])
            t = session["tokens"]
            headers = {"Location": "/login/listagem-ucs", "Content-Type": "text/html"}
            state["session"] = session
            return 303, {**headers, "Set-Cookie": f"rtk={t['refreshToken']}; Path=/"}, b""
        if path == "/login/listagem-ucs" and state is not None and state.get("session"):
            t = state["session"]["tokens"]
            script = (
                f"<script>localStorage.setItem('accessTokenEnergisa', {json.dumps(t['ate'])});"
                f"localStorage.setItem('udk', {json.dumps(t['udk'])});"
                f"localStorage.setItem('utk', {json.dumps(t['utk'])});"
                f"localStorage.setItem('rtk', {json.dumps(t['refreshToken'])});"
                f"document.cookie = 'utk=' + {json.dumps(t['utk'])} + '; path=/';"
                f"document.cookie = 'cpf=' + {json.dumps(state['cpf'])} + '; path=/';</script>"
            )
            return _html("Minhas unidades", "<h1>Unidades consumidoras</h1>" + script)
        return 400, {"Content-Type": "text/html"}, b"<html><title>Sessao expirada</title></html>"

    def api(
        self, path: str, query: dict[str, list[str]], body: bytes, cookies: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return _wrap(400, None, errored=True, message="JSON inválido")
        if path.endswith("/Autenticacao/AtualizarToken"):
            if self.take("refresh_fails") or data.get("refreshToken") not in self.refresh_tokens:
                return _wrap(401, None, errored=True, message="Token inválido")
            new = "ate-" + secrets.token_hex(8)
            with self.lock:
                self.tokens.add(new)
            return _wrap(200, {"token": new, "refreshToken": data["refreshToken"]})
        token = data.get("ate")
        if self.take("401"):
            with self.lock:
                self.tokens.discard(token)
        if token not in self.tokens:
            return _wrap(401, None, errored=True, message="Não autorizado")
        if path == "/api/usuarios/UnidadeConsumidora":
            return _wrap(200, self.units())
        if path == "/api/clientes/Gd/VerificaContextoGDByUC":
            uc = int(query.get("numeroUc", ["0"])[0])
            if uc != PLANT:
                return _wrap(
                    200, {"objeto": {"ucGeradora": False, "ucBeneficiaria": True, "listaBeneficiarias": None}}
                )
            return _wrap(
                200,
                {
                    "objeto": {
                        "ucGeradora": True,
                        "ucBeneficiaria": False,
                        "percentualCompensacao": 100,
                        "qtdKwhSaldo": 845.25,
                        "geracaoDistribuida": PLANT,
                        "listaGeradoras": None,
                        "listaBeneficiarias": [
                            {
                                "codigoEmpresaWeb": 6,
                                "cdc": n,
                                "digitoVerificador": n % 7,
                                "nome": f"BENEFICIARIA {n}",
                                "percentualRecebido": p,
                            }
                            for n, p in BENEFICIARIES
                        ],
                    }
                },
            )
        if path == "/api/clientes/Fatura/ListarFaturasCliente":
            uc = int(data.get("cdc") or 0)
            if uc in self.failing_units:
                return _wrap(500, None, errored=True, message="Erro ao consultar faturas")
            return _wrap(200, self.bills(uc))
        if path == "/api/clientes/Padrao/SelecionarUc":
            with self.lock:
                self.selected[data.get("refreshToken", "")] = int(data.get("cdc") or 0)
            return _wrap(200, True)
        if path == "/api/clientes/SegundaVia/Download":
            uc = int(data.get("cdc") or 0)
            chosen = self.selected.get(data.get("refreshToken", ""))
            if chosen != uc or cookies.get("NumeroUc") != str(uc):
                return _wrap(412, None, errored=True, message="Unidade consumidora não selecionada")
            return 200, {"Content-Type": "application/pdf"}, self.pdf(uc, data.get("fatura"))
        return _wrap(404, None, errored=True, message="Rota não encontrada")


def _sms_form(error: str) -> str:
    note = f'<p class="erro">{escape(error)}</p>' if error else ""
    return (
        f'{note}<form method="post" action="/login/codigo-acesso"><label for="codigo">Código</label>'
        '<input id="codigo" name="codigo" inputmode="numeric"><button type="submit">AVANÇAR</button></form>'
    )


def _html(title: str, body: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head><body>{body}</body></html>"
    return 200, {"Content-Type": "text/html; charset=utf-8", **(headers or {})}, page.encode()


def _wrap(
    status: int, infos: Any, *, errored: bool = False, message: str = "OK"
) -> tuple[int, dict[str, str], bytes]:
    body = {
        "infos": infos,
        "errored": errored,
        "codigo": "ERRO" if errored else "OK",
        "mensagem": message,
        "categoria": "ERRO" if errored else "OK",
    }
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


@contextmanager
def start_fake_portal() -> Iterator[FakePortal]:
    portal = FakePortal()
    portal.server = FakeHttpServer(lambda h, m, p, b: portal.app(h, m, p, b)).start()
    try:
        yield portal
    finally:
        portal.server.stop()
