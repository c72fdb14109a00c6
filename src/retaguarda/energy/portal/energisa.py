"""The Energisa customer portal: login through its pages (Playwright), data through its JSON API.

Data calls (reference energy.md §2.3–2.4) are POSTs carrying the session cookies and the token
body `{ate, udk, utk, refreshToken, retk}`; answers wrap data as `{"infos", "errored",
"mensagem"}`. A 401 is answered by one refresh call (`AtualizarToken`) and one retry; a 412 on
the PDF means the server-side "selected UC" differs: select it (`SelecionarUc` plus the
`NumeroUc`/`Digito`/`CodigoEmpresaWeb` cookies) and retry once. An HTML "Access Denied" page is
the bot protection. The portal has no published contract: parameter names follow public code
that talks to it and may change without notice.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from retaguarda.energy.portal.base import (
    AccessDenied,
    LoginStart,
    PortalError,
    PortalSession,
    SessionExpired,
)
from retaguarda.energy.portal.browser import BrowserLogin, BrowserRunner, ThreadBrowser

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
REFRESH = "/api/autenticacao/UsuarioClienteEnergisa/Autenticacao/AtualizarToken"


class EnergisaPortal:
    def __init__(
        self,
        base_url: str,
        *,
        browser: BrowserRunner | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._browser = browser
        self._login: BrowserLogin | None = None
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Origin": self.base_url},
        )

    # Login (pages) -------------------------------------------------------------------------
    def _logins(self) -> BrowserLogin:
        if self._login is None:
            self._browser = self._browser or ThreadBrowser()
            self._login = BrowserLogin(self.base_url, self._browser)
        return self._login

    def start_login(self, document: str, phone_last4: str) -> LoginStart:
        return self._logins().start(document, phone_last4)

    def finish_login(self, transaction_id: str, code: str) -> PortalSession:
        return self._logins().finish(transaction_id, code)

    def close(self) -> None:
        self._http.close()
        if self._browser is not None:
            self._browser.close()

    # JSON API ------------------------------------------------------------------------------
    def _post(
        self,
        session: PortalSession,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        cookies: dict[str, str] | None = None,
        accept: str = "application/json",
    ) -> httpx.Response:
        def send() -> httpx.Response:
            payload = {**_token_body(session), **(body or {})}
            self._http.cookies.clear()  # one client serves many sessions: only the explicit header counts
            try:
                return self._http.post(
                    path,
                    params=params,
                    json=payload,
                    headers={
                        "Accept": accept,
                        "Cookie": _cookie_header({**session.cookies, **(cookies or {})}),
                    },
                )
            except httpx.HTTPError as exc:
                raise PortalError(f"the portal did not answer ({type(exc).__name__})") from None

        response = send()
        _check_denied(response)
        if response.status_code == 401:
            self._refresh(session)
            response = send()
            _check_denied(response)
            if response.status_code == 401:
                raise SessionExpired("the portal refused the session after a refresh; connect again")
        return response

    def _refresh(self, session: PortalSession) -> None:
        tokens = session.tokens
        try:
            response = self._http.post(
                REFRESH,
                json={
                    "refreshToken": tokens.get("refreshToken", ""),
                    "token": tokens.get("ate") or tokens.get("utk", ""),
                },
                headers={"Cookie": _cookie_header(session.cookies)},
            )
        except httpx.HTTPError as exc:
            raise PortalError(f"the portal did not answer the refresh ({type(exc).__name__})") from None
        _check_denied(response)
        if response.status_code != 200:
            raise SessionExpired("the portal refused to refresh the session; connect again")
        infos = _infos(response)
        if not isinstance(infos, dict) or not infos.get("token"):
            raise SessionExpired("the refresh answer carries no token; connect again")
        tokens["ate"] = str(infos["token"])
        if infos.get("refreshToken"):
            tokens["refreshToken"] = str(infos["refreshToken"])
        session.changed = True

    def list_units(self, session: PortalSession) -> list[dict[str, Any]]:
        response = self._post(session, "/api/usuarios/UnidadeConsumidora", params={"doc": session.document})
        return _list(_infos(response))

    def gd_info(self, session: PortalSession, unit: dict[str, Any]) -> dict[str, Any]:
        response = self._post(
            session,
            "/api/clientes/Gd/VerificaContextoGDByUC",
            params={
                "codigoEmpresaWeb": unit.get("codigoEmpresaWeb", 6),
                "numeroUc": unit["numeroUc"],
                "digitoVerificador": unit.get("digitoVerificador", 0),
            },
        )
        infos = _infos(response)
        objeto = infos.get("objeto") if isinstance(infos, dict) else None
        return dict(objeto) if isinstance(objeto, dict) else {}

    def list_bills(self, session: PortalSession, unit: dict[str, Any]) -> list[dict[str, Any]]:
        response = self._post(session, "/api/clientes/Fatura/ListarFaturasCliente", body=_uc_body(unit))
        return _list(_infos(response))

    def download_pdf(self, session: PortalSession, unit: dict[str, Any], bill: dict[str, Any]) -> bytes:
        body = {
            **_uc_body(unit),
            "ano": bill["anoReferencia"],
            "mes": bill["mesReferencia"],
            "fatura": bill["numeroFatura"],
            "cdcRed": None,
        }
        path = "/api/clientes/SegundaVia/Download"
        response = self._post(session, path, body=body, accept="application/pdf")
        if response.status_code == 412:  # the server's selected UC is another one
            cookies = {
                "NumeroUc": str(unit["numeroUc"]),
                "Digito": str(unit.get("digitoVerificador", 0)),
                "CodigoEmpresaWeb": str(unit.get("codigoEmpresaWeb", 6)),
            }
            selected = self._post(
                session, "/api/clientes/Padrao/SelecionarUc", body=_uc_body(unit), cookies=cookies
            )
            _infos(selected)
            session.cookies.update(cookies)
            session.changed = True
            response = self._post(session, path, body=body, accept="application/pdf")
        if response.status_code != 200:
            raise PortalError(f"the portal answered {response.status_code} to the PDF request")
        if response.content.startswith(b"%PDF"):
            return response.content
        try:
            message = response.json().get("mensagem")
        except (ValueError, AttributeError):
            message = None
        raise PortalError(str(message or "the portal answered something that is not a PDF")[:300])


def _cookie_header(cookies: dict[str, str]) -> str:
    """The session's cookies as one header (never kept in the shared client's jar)."""
    return "; ".join(f"{k}={v}" for k, v in cookies.items() if ";" not in k + v and "\n" not in k + v)


def _token_body(session: PortalSession) -> dict[str, str]:
    t = session.tokens
    return {
        "ate": t.get("ate", ""),
        "udk": t.get("udk", ""),
        "utk": t.get("utk", ""),
        "refreshToken": t.get("refreshToken", ""),
        "retk": t.get("retk", ""),
    }


def _uc_body(unit: dict[str, Any]) -> dict[str, Any]:
    return {
        "codigoEmpresaWeb": unit.get("codigoEmpresaWeb", 6),
        "cdc": unit["numeroUc"],
        "digitoVerificadorCdc": unit.get("digitoVerificador", 0),
    }


def _check_denied(response: httpx.Response) -> None:
    if "html" in response.headers.get("content-type", "") and response.status_code in (200, 403):
        head = response.text[:2000].lower()
        if "<title>access denied" in head or "<title>bloqueio" in head:
            raise AccessDenied("the portal's bot protection answered Access Denied")


def _infos(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise PortalError(f"the portal answered {response.status_code}")
    try:
        data = response.json()
    except (ValueError, json.JSONDecodeError):
        raise PortalError("the portal answered something that is not JSON") from None
    if not isinstance(data, dict):
        raise PortalError("the portal answered an unexpected JSON shape")
    if data.get("errored"):
        raise PortalError(str(data.get("mensagem") or "the portal reported an error")[:300])
    return data.get("infos")


def _list(infos: Any) -> list[dict[str, Any]]:
    if infos is None:
        return []
    if not isinstance(infos, list):
        raise PortalError("the portal answered an unexpected JSON shape (a list was expected)")
    return [dict(x) for x in infos if isinstance(x, dict)]
