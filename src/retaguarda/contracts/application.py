"""Contract commands: load → Contract/ContractTemplate → save, gap-free numbers, e-signature.

Other contexts are reached only through functions the installer hands in (`Lookups`): the
customer register, billing's plan catalogue, the company's name. Billing follows contracts
through events (see `actors.py`), never from here.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from retaguarda.contracts import templating
from retaguarda.contracts.domain import (
    Contract,
    ContractSettings,
    ContractTemplate,
    Terms,
    clean_reason,
    settings_id,
)
from retaguarda.contracts.fees import add_months
from retaguarda.contracts.pdf import render_contract_pdf, with_signature_page
from retaguarda.contracts.signing import (
    BuiltinSigner,
    SignatureProvider,
    SigningRequest,
    token_hash,
    verify_clicksign_webhook,
)
from retaguarda.i18n import DEFAULT_LOCALE, _, format_date, use_locale
from retaguarda.services import Saved, Service
from retaguarda.shared.claims import Claim, claim_id
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from retaguarda.shared.meta import Meta
from retaguarda.shared.sequence import next_number

SEQUENCE = "contracts:contract"
SIGNING_SCOPE = "contract-signing"
WEBHOOK_SCOPE = "contract-webhook"
SIGNATURE_EMAIL = "contracts.signature_request"
EXPIRY_EMAIL = "contracts.expiry_notice"
DEFAULT_SETTINGS: dict[str, Any] = {
    "provider": "builtin",
    "link_hours": 72,
    "clicksign_url": "",
    "clicksign_token": "",
    "clicksign_webhook_secret": "",
}
SECRET_SETTINGS = ("clicksign_token", "clicksign_webhook_secret")


def local_date(at: datetime) -> date:
    return at.astimezone(SAO_PAULO).date()


@dataclass(frozen=True)
class Lookups:
    """What contracts reads of other contexts (provided by the installer)."""

    customer: Callable[[str, str], Any]  # (tenant, id) → object with name, document, email, address | None
    plan: Callable[[str, str], Any]  # (tenant, id) → object with name, price, cycle, kind, active | None
    company: Callable[[str], dict[str, str]]  # tenant → {"nome", "documento"}
    plans: Callable[[str], list[dict[str, Any]]] = lambda tenant_id: []  # recurring, active plans
    customer_options: Callable[[str], list[dict[str, str]]] = lambda tenant_id: []  # id, name
    subscriptions: Callable[[str, str], list[dict[str, Any]]] = lambda tenant_id, customer_id: []


@dataclass(frozen=True)
class Sent:
    saved: Saved
    signing_url: str | None
    provider: str


class Contracts(Service):
    def __init__(
        self,
        store: Any,
        on_saved: Any,
        *,
        lookups: Lookups,
        base_url: str,
        providers: Callable[[dict[str, Any]], SignatureProvider] | None = None,
    ) -> None:
        super().__init__(store, on_saved)
        self.lookups = lookups
        self.base_url = base_url.rstrip("/")
        self._providers = providers or (lambda values: BuiltinSigner(self.base_url))

    # Settings ---------------------------------------------------------------------------------
    def settings_for(self, tenant_id: str) -> dict[str, Any]:
        found = self.find(ContractSettings, settings_id(tenant_id))
        return (
            dict(found.values)
            if found is not None and found.tenant_id == tenant_id
            else dict(DEFAULT_SETTINGS)
        )

    def configure(self, meta: Meta, values: dict[str, Any]) -> Saved:
        def command() -> Saved:
            s = self.find(ContractSettings, settings_id(meta.tenant_id))
            if s is None:
                s = ContractSettings.configure(meta, {**DEFAULT_SETTINGS, **values})
                return Saved(s, self.save(s))
            return Saved(s, self.save(s) if s.change(meta, values) else 0)

        return self.retrying(command)

    # Templates --------------------------------------------------------------------------------
    def create_template(self, meta: Meta, *, name: Any, body: Any) -> Saved:
        values = ContractTemplate.clean(name, body)
        templating.validate(values["body"])
        t = ContractTemplate.create(meta, **values)
        return Saved(t, self.save(t))

    def update_template(self, meta: Meta, template_id: str, *, name: Any, body: Any) -> Saved:
        values = ContractTemplate.clean(name, body)
        templating.validate(values["body"])

        def command() -> Saved:
            t = self.load(ContractTemplate, template_id, meta.tenant_id)
            return Saved(t, self.save(t) if t.change(meta, **values) else 0)

        return self.retrying(command)

    def get_template(self, tenant_id: str, template_id: str) -> ContractTemplate:
        return self.load(ContractTemplate, template_id, tenant_id)

    def preview(self, tenant_id: str, body: str, customer_id: str = "", plan_id: str = "") -> str:
        """The body rendered for a chosen customer (and plan), or with sample values."""
        values = dict(templating.SAMPLE)
        if customer_id:
            values["cliente"] = self._customer_values(tenant_id, customer_id)
        if plan_id:
            plan = self._plan(tenant_id, plan_id)
            values["plano"] = {"nome": plan.name, "preco": Decimal(plan.price)}
            values["preco"] = values["multa"] = Decimal(plan.price)
        values["empresa"] = self.lookups.company(tenant_id)
        return templating.render(body, values)

    # Contracts --------------------------------------------------------------------------------
    def create_contract(
        self,
        meta: Meta,
        *,
        customer_id: Any,
        plan_id: Any,
        template_id: Any,
        start_date: Any,
        loyalty_months: Any = 12,
        auto_renew: Any = True,
        price: Any = None,
        end_date: Any = None,
        due_day: Any = 10,
        renewal_months: Any = 12,
        loyalty_fee: Any = None,
    ) -> Saved:
        """A draft contract numbered CT-000001, CT-000002 … per tenant, text rendered from the template."""
        customer_id = str(customer_id or "").strip()
        errors, (customer, plan, template) = self.check_refs(
            meta.tenant_id, customer_id, plan_id, template_id
        )
        if errors:
            raise ValidationError.many(errors)
        assert customer is not None and plan is not None and template is not None
        if (
            end_date is None
            and isinstance(start_date, date)
            and isinstance(loyalty_months, int)
            and not isinstance(loyalty_months, bool)
            and loyalty_months > 0
        ):
            end_date = add_months(start_date, loyalty_months)
        terms = Terms.clean(
            plan_id=str(plan.id),
            plan_name=plan.name,
            price=Decimal(plan.price) if price is None else price,
            start_date=start_date,
            end_date=end_date,
            loyalty_months=loyalty_months,
            loyalty_fee=loyalty_fee,
            auto_renew=auto_renew,
            renewal_months=renewal_months,
            due_day=due_day,
        )

        def command() -> Saved:
            number, seq = next_number(self, SEQUENCE, meta)
            contract_id = uuid.uuid4()
            from retaguarda.contracts.domain import format_number

            text = templating.render(
                template.body,
                self._values(meta.tenant_id, format_number(number), customer_id, terms, local_date(meta.at)),
            )
            contract = Contract.create(
                contract_id,
                meta,
                number=number,
                customer_id=customer_id,
                template_id=str(template.id),
                terms=terms,
                text=text,
            )
            return Saved(contract, self.save(contract, seq))

        return self.retrying(command, attempts=50)

    def check_refs(
        self, tenant_id: str, customer_id: Any, plan_id: Any, template_id: Any
    ) -> tuple[dict[str, str], tuple[Any, Any, Any]]:
        """Errors for a missing customer, plan or template, and the three found (or None)."""
        errors: dict[str, str] = {}
        customer = self.lookups.customer(tenant_id, str(customer_id or "").strip()) if customer_id else None
        if customer is None:
            errors["customer_id"] = "no such customer"
        plan = self.lookups.plan(tenant_id, str(plan_id or "")) if plan_id else None
        if plan is None:
            errors["plan_id"] = "no such plan"
        elif getattr(plan, "kind", "plan") != "plan" or getattr(plan, "cycle", "monthly") == "once":
            errors["plan_id"] = "only a recurring plan can be contracted"
        template = None
        try:
            template = self.load(ContractTemplate, str(template_id or ""), tenant_id)
        except NotFoundError:
            errors["template_id"] = "no such template"
        return errors, (customer, plan, template)

    def get_contract(self, tenant_id: str | None, contract_id: str) -> Contract:
        return self.load(Contract, contract_id, tenant_id)

    def amend(
        self,
        meta: Meta,
        contract_id: str,
        *,
        price: Any = None,
        plan_id: Any = None,
        text: Any = None,
        note: Any = "",
    ) -> Saved:
        """A new version: the template re-rendered with the new price/plan, or a new clause text."""

        def command() -> Saved:
            c = self.load(Contract, contract_id, meta.tenant_id)
            t = dict(c.terms)
            if plan_id is not None and str(plan_id) != t["plan_id"]:
                plan = self._plan(meta.tenant_id, str(plan_id))
                t["plan_id"], t["plan_name"] = str(plan.id), plan.name
                if price is None:
                    t["price"] = str(Decimal(plan.price))
            if price is not None:
                t["price"] = price
            terms = Terms.clean(
                **{
                    **t,
                    "price": t["price"] if price is not None else Decimal(t["price"]),
                    "loyalty_fee": Decimal(t["loyalty_fee"]),
                }
            )
            if text is not None and str(text).strip():
                new_text = str(text)
            else:
                template = self.load(ContractTemplate, c.template_id, meta.tenant_id)
                new_text = templating.render(
                    template.body,
                    self._values(meta.tenant_id, c.number, c.customer_id, terms, local_date(meta.at)),
                )
            changed = c.amend(meta, terms=terms, text=new_text, note=str(note or ""))
            if not changed:
                raise ValidationError("body", "nothing to change: send a new price, plan_id or text")
            return Saved(c, self.save(c))

        return self.retrying(command)

    # Signature --------------------------------------------------------------------------------
    def pdf_of(self, c: Contract, version: int | None = None) -> bytes:
        """The PDF of a version (current by default); a signed version gets its signature page."""
        v = c.version_at(version) if version is not None else c.current
        if v is None:
            raise NotFoundError("Version", version)
        with use_locale(DEFAULT_LOCALE):  # a legal document: the same bytes whoever asks for it
            title = _("Service contract %(number)s", number=c.number)
            pdf = render_contract_pdf(
                number=c.number, version=v["number"], title=title, text=v["text"], at=v["at"]
            )
            sig = c.signature
            if sig is not None and sig["version"] == v["number"]:
                pdf = with_signature_page(pdf, {**sig, "number": c.number})
        return pdf

    def _unsigned_pdf(self, c: Contract, version: int) -> bytes:
        """In pt_BR whatever the request's language: its SHA-256 is compared when the link is used."""
        v = c.versions[version - 1]
        with use_locale(DEFAULT_LOCALE):
            return render_contract_pdf(
                number=c.number,
                version=v["number"],
                title=_("Service contract %(number)s", number=c.number),
                text=v["text"],
                at=v["at"],
            )

    def send_for_signature(self, meta: Meta, contract_id: str) -> Sent:
        """Starts the tenant's provider; the built-in one mails a single-use, expiring link."""
        from retaguarda.notifications import Email

        settings = self.settings_for(meta.tenant_id)
        provider = self._providers(settings)
        c = self.load(Contract, contract_id, meta.tenant_id)
        if c.status not in ("draft", "awaiting_signature"):
            raise ConflictError(f"cannot send for signature a contract that is {c.status}")
        customer = self.lookups.customer(meta.tenant_id, c.customer_id)
        email = str(getattr(customer, "email", "") or "")
        if not email:
            raise ValidationError("customer_id", "the customer has no e-mail address to send the link to")
        pdf = self._unsigned_pdf(c, c.version_number)
        expires = meta.at + timedelta(hours=int(settings.get("link_hours", 72)))
        started = provider.start(
            SigningRequest(c.number, c.version_number, customer.name, email, pdf, expires.isoformat())
        )

        def command() -> Saved:
            contract = self.load(Contract, contract_id, meta.tenant_id)
            if contract.version_number != c.version_number:
                raise ConflictError("the contract changed while it was being sent; send it again")
            contract.request_signature(
                meta,
                provider=started.provider,
                token_sha256=started.token_sha256,
                expires_at=expires,
                signer_email=email,
                pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                external_id=started.external_id,
            )
            claim = Claim.take(SIGNING_SCOPE, started.token_sha256, str(contract.id), meta)
            extra: list[Any] = []
            if started.signing_url:
                extra.append(
                    Email.compose(
                        meta,
                        email,
                        SIGNATURE_EMAIL,
                        {
                            "number": contract.number,
                            "name": customer.name,
                            "url": started.signing_url,
                            "expires": expires.isoformat(),
                        },
                    )
                )
            return Saved(contract, self.save(contract, claim, *extra))

        return Sent(self.retrying(command), started.signing_url, started.provider)

    def find_by_token(self, token: str) -> Contract | None:
        claim = self.find(Claim, claim_id(SIGNING_SCOPE, token_hash(token)))
        owner = getattr(claim, "owner_id", None)
        if not owner:
            return None
        return self.find(Contract, UUID(owner))

    def link_state(self, token: str, at: datetime) -> tuple[Contract | None, str]:
        c = self.find_by_token(token)
        if c is None:
            return None, "unknown"
        if c.status != "awaiting_signature":
            return c, "used"
        return c, c.signing_state(token_hash(token), at)

    def sign_with_link(
        self,
        token: str,
        at: datetime,
        correlation_id: str,
        *,
        name: Any,
        document: Any,
        accept: bool,
        ip: str,
        user_agent: str,
    ) -> Saved:
        """The signer's acceptance on the public page (single use; refused once used or expired)."""
        c, state = self.link_state(token, at)
        if c is None:
            raise NotFoundError("Signing link", "")
        if state != "ok":
            raise ConflictError(_("This signing link is %(state)s.", state=state), field="token")
        if not accept:
            raise ValidationError("accept", _("Tick the box to accept the contract"))
        meta = Meta(c.tenant_id, f"signer:{c.id}", correlation_id, at)

        def command() -> Saved:
            contract = self.load(Contract, str(c.id), c.tenant_id)
            version = contract.signing["version"] if contract.signing else contract.version_number
            pdf = self._unsigned_pdf(contract, version)
            contract.sign(
                meta,
                provider="builtin",
                name=name,
                document=document,
                ip=ip,
                user_agent=user_agent,
                pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                token_sha256=token_hash(token),
            )
            return Saved(contract, self.save(contract))

        return self.retrying(command)

    def accept_clicksign_webhook(
        self, tenant_id: str, raw_body: bytes, hmac_header: str | None, at: datetime, correlation_id: str
    ) -> str:
        """Verifies `Content-Hmac`, drops replays (document key, event, occurred_at), and records a
        `sign` as the signature of the pending version. Returns what happened."""
        import json

        settings = self.settings_for(tenant_id)
        if not verify_clicksign_webhook(settings.get("clicksign_webhook_secret", ""), raw_body, hmac_header):
            raise AuthenticationError("webhook signature does not match")
        try:
            body = json.loads(raw_body)
            event = body["event"]
            name = str(event["name"])
            occurred = str(event.get("occurred_at") or "")
            key = str(body["document"]["key"])
        except (ValueError, KeyError, TypeError):
            raise ValidationError("body", "not a Clicksign webhook body") from None
        meta = Meta(tenant_id, "system:clicksign", correlation_id, at)
        dedupe = Claim.take(
            WEBHOOK_SCOPE, hashlib.sha256(f"{key}|{name}|{occurred}".encode()).hexdigest(), key, meta
        )
        if name != "sign":
            try:
                self.save(dedupe)
            except IntegrityError:
                return "duplicate"
            return "ignored"
        claim = self.find(Claim, claim_id(SIGNING_SCOPE, token_hash(f"clicksign:{key}")))
        owner = getattr(claim, "owner_id", None)
        if not owner:
            return "unknown document"
        c = self.load(Contract, owner, tenant_id)
        if c.status != "awaiting_signature" or c.signing is None or c.signing["external_id"] != key:
            try:
                self.save(dedupe)
            except IntegrityError:
                return "duplicate"
            return "not awaiting this document"
        signer = dict((event.get("data") or {}).get("signer") or {})
        try:
            c.sign(
                meta,
                provider="clicksign",
                name=signer.get("name") or "",
                document=signer.get("documentation") or signer.get("document") or "-",
                ip=str(signer.get("address") or ""),
                user_agent=str(signer.get("user_agent") or ""),
                pdf_sha256=c.signing["pdf_sha256"],
                evidence={
                    "event": name,
                    "occurred_at": occurred,
                    "document_key": key,
                    "email": str(signer.get("email") or ""),
                    "auths": signer.get("auths") or [],
                },
            )
        except ValidationError:
            return "incomplete signer data"
        try:
            self.save(c, dedupe)
        except IntegrityError:
            return "duplicate"
        return "signed"

    # Status -----------------------------------------------------------------------------------
    def _change(self, meta: Meta, contract_id: str, fn: Callable[[Contract], Any]) -> Saved:
        def command() -> Saved:
            c = self.load(Contract, contract_id, meta.tenant_id)
            fn(c)
            return Saved(c, self.save(c))

        return self.retrying(command)

    def activate(self, meta: Meta, contract_id: str, reason: Any) -> Saved:
        return self._change(meta, contract_id, lambda c: c.activate_on_paper(meta, reason))

    def suspend(self, meta: Meta, contract_id: str, reason: Any) -> Saved:
        return self._change(meta, contract_id, lambda c: c.suspend(meta, reason))

    def resume(self, meta: Meta, contract_id: str, reason: Any) -> Saved:
        return self._change(meta, contract_id, lambda c: c.resume(meta, reason))

    def cancel(
        self, meta: Meta, contract_id: str, reason: Any, waive_fee: bool = False
    ) -> tuple[Saved, Decimal]:
        clean_reason(reason)
        fee: list[Decimal] = []
        saved = self._change(
            meta,
            contract_id,
            lambda c: fee.append(c.cancel(meta, reason, local_date(meta.at), waive_fee=waive_fee)),
        )
        return saved, fee[-1]

    def renew(self, meta: Meta, contract_id: str) -> Saved:
        def renew(c: Contract) -> None:
            end = c.end_date
            if end is None:
                raise ConflictError("an open-ended contract has no end date to renew")
            new_end = add_months(end, int(c.terms["renewal_months"]))
            note = _(
                "Renewal: this contract is renewed from %(start)s to %(end)s under the same terms.",
                start=format_date(end),
                end=format_date(new_end),
            )
            c.renew(meta, text=f"{c.current['text'].rstrip()}\n\n{note}\n")

        return self._change(meta, contract_id, renew)

    def end_of_term(self, meta: Meta, contract_id: str) -> str:
        """On (or after) the end date: renew when auto-renew is on, else expire. Idempotent."""
        c = self.load(Contract, contract_id, meta.tenant_id)
        today = local_date(meta.at)
        if c.status not in ("active", "suspended") or c.end_date is None or c.end_date > today:
            return "nothing to do"
        if c.terms.get("auto_renew"):
            self.renew(meta, contract_id)
            return "renewed"
        self._change(meta, contract_id, lambda x: x.expire(meta, "end of term"))
        return "expired"

    def queue_expiry_notice(self, meta: Meta, contract_id: str) -> bool:
        """The 30-day notice e-mail, once per contract and end date (same save as the marker)."""
        from retaguarda.notifications import Email

        def command() -> bool:
            c = self.load(Contract, contract_id, meta.tenant_id)
            customer = self.lookups.customer(meta.tenant_id, c.customer_id)
            email = str(getattr(customer, "email", "") or "")
            if not c.queue_expiry_notice(meta):
                return False
            extra = (
                [
                    Email.compose(
                        meta,
                        email,
                        EXPIRY_EMAIL,
                        {
                            "number": c.number,
                            "name": getattr(customer, "name", ""),
                            "end_date": str(c.end_date),
                            "auto_renew": bool(c.terms.get("auto_renew")),
                        },
                    )
                ]
                if email
                else []
            )
            self.save(c, *extra)
            return True

        return self.retrying(command)

    def link_subscription(
        self, meta: Meta, contract_id: str, subscription_id: str, taken_over: bool
    ) -> Saved:
        return self._change(
            meta, contract_id, lambda c: c.link_subscription(meta, subscription_id, taken_over)
        )

    # Helpers ----------------------------------------------------------------------------------
    def _plan(self, tenant_id: str, plan_id: str) -> Any:
        plan = self.lookups.plan(tenant_id, plan_id)
        if plan is None:
            raise ValidationError("plan_id", "no such plan")
        return plan

    def _customer_values(self, tenant_id: str, customer_id: str) -> dict[str, Any]:
        customer = self.lookups.customer(tenant_id, customer_id)
        if customer is None:
            raise ValidationError("customer_id", "no such customer")
        address = getattr(customer, "address", None) or {}
        line = ", ".join(p for p in (address.get("street", ""), address.get("number", "")) if p)
        if address.get("district"):
            line += f" - {address['district']}"
        if address.get("city"):
            line += f", {address['city']}/{address.get('uf', '')}"
        from retaguarda.shared.documents import format_document

        return {
            "nome": customer.name,
            "documento": format_document(customer.document),
            "email": getattr(customer, "email", "") or "",
            "endereco": line.strip(" ,-") or "-",
        }

    def _values(
        self, tenant_id: str, number: str, customer_id: str, terms: Terms, today: date
    ) -> dict[str, Any]:
        return {
            "numero": number,
            "cliente": self._customer_values(tenant_id, customer_id),
            "plano": {"nome": terms.plan_name, "preco": terms.price},
            "empresa": self.lookups.company(tenant_id),
            "preco": terms.price,
            "inicio": terms.start_date,
            "fim": terms.end_date,
            "fidelidade_meses": terms.loyalty_months,
            "multa": terms.loyalty_fee,
            "vencimento": terms.due_day,
            "renovacao_automatica": terms.auto_renew,
            "renovacao_meses": terms.renewal_months,
            "hoje": today,
        }


def contract_view(c: Contract, *, include_text: bool = False) -> dict[str, Any]:
    """The API's JSON of a contract (English keys, money as decimal strings)."""
    t = c.terms
    sig = c.signature
    view: dict[str, Any] = {
        "id": str(c.id),
        "number": c.number,
        "customer_id": c.customer_id,
        "template_id": c.template_id,
        "status": c.status,
        "status_reason": c.status_reason,
        "version": c.version_number,
        "plan_id": t["plan_id"],
        "plan_name": t["plan_name"],
        "price": t["price"],
        "start_date": t["start_date"],
        "end_date": t["end_date"],
        "loyalty_months": t["loyalty_months"],
        "loyalty_fee": t["loyalty_fee"],
        "auto_renew": t["auto_renew"],
        "renewal_months": t["renewal_months"],
        "due_day": t["due_day"],
        "subscription_id": c.subscription_id,
        "cancellation_fee": c.cancellation_fee,
        "sha256": c.current["sha256"],
        "signature": None
        if sig is None
        else {
            "version": sig["version"],
            "provider": sig["provider"],
            "name": sig["name"],
            "document": sig["document"],
            "ip": sig["ip"],
            "user_agent": sig["user_agent"],
            "signed_at": sig["signed_at"],
            "sha256": sig["sha256"],
            "pdf_sha256": sig["pdf_sha256"],
        },
        "signing": None
        if c.signing is None
        else {
            "version": c.signing["version"],
            "provider": c.signing["provider"],
            "expires_at": c.signing["expires_at"],
            "signer_email": c.signing["signer_email"],
        },
        "versions": [
            {
                "number": v["number"],
                "sha256": v["sha256"],
                "note": v["note"],
                "by": v["by"],
                "at": v["at"],
                "price": v["terms"]["price"],
                "plan_name": v["terms"]["plan_name"],
                "changes": v["changes"],
            }
            for v in c.versions
        ],
    }
    if include_text:
        view["text"] = c.current["text"]
    return view


def version_view(c: Contract, n: int) -> dict[str, Any]:
    v = c.version_at(n)
    if v is None:
        raise NotFoundError("Version", n)
    signed = c.signature is not None and c.signature["version"] == n
    return {
        "contract_id": str(c.id),
        "number": c.number,
        "version": v["number"],
        "text": v["text"],
        "sha256": v["sha256"],
        "price": v["terms"]["price"],
        "plan_id": v["terms"]["plan_id"],
        "plan_name": v["terms"]["plan_name"],
        "terms": v["terms"],
        "note": v["note"],
        "changes": v["changes"],
        "by": v["by"],
        "at": v["at"],
        "signed": signed,
    }
