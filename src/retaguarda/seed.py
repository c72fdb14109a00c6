"""Demo data for `./scripts/serve`: tenant `demo`, one user per role, ~20 customers. Idempotent."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import TYPE_CHECKING

from retaguarda.shared.documents import make_cnpj, make_cpf
from retaguarda.shared.errors import ConflictError
from retaguarda.shared.meta import Meta, new_correlation_id

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

CUSTOMERS = [
    ("Provedor Serra Azul Ltda", "company", "283746510001", "Mensal 300M", ("MG", "3106200", "Belo Horizonte")),
    ("Ana Beatriz Souza", "person", "529982247", "Residencial 100M", ("SP", "3550308", "São Paulo")),
    ("Carlos Eduardo Lima", "person", "111444777", "Residencial 300M", ("SP", "3509502", "Campinas")),
    ("Energia Verde Gestão S.A.", "company", "12ABC34501DE", "Empresarial 1G", ("PR", "4106902", "Curitiba")),
    ("Mariana Oliveira Santos", "person", "935411347", "Residencial 100M", ("RJ", "3304557", "Rio de Janeiro")),
    ("Agência Pixel Criativo ME", "company", "451239870001", "Empresarial 500M", ("SC", "4205407", "Florianópolis")),
    ("João Pedro Almeida", "person", "713056098", "Residencial 50M", ("BA", "2927408", "Salvador")),
    ("Fernanda Costa Ribeiro", "person", "248537196", "Residencial 300M", ("PE", "2611606", "Recife")),
    ("Clínica Sorriso Feliz Ltda", "company", "903847560001", "Empresarial 300M", ("RS", "4314902", "Porto Alegre")),
    ("Rafael Gomes Pereira", "person", "364820571", "Residencial 100M", ("GO", "5208707", "Goiânia")),
    ("Juliana Martins Rocha", "person", "587201346", "Residencial 50M", ("CE", "2304400", "Fortaleza")),
    ("Supermercado Bom Preço Eireli", "company", "672019480001", "Empresarial 1G", ("DF", "5300108", "Brasília")),
    ("Lucas Fernandes Barbosa", "person", "820463159", "Residencial 300M", ("SP", "3548708", "São Bernardo do Campo")),
    ("Patrícia Carvalho Dias", "person", "193746285", "Residencial 100M", ("MG", "3170206", "Uberlândia")),
    ("Construtora Horizonte Ltda", "company", "B7Q2ZK910001", "Empresarial 500M", ("ES", "3205309", "Vitória")),
    ("Bruno Henrique Teixeira", "person", "476158203", "Residencial 50M", ("AM", "1302603", "Manaus")),
    ("Camila Araújo Nunes", "person", "605271938", "Residencial 300M", ("PA", "1501402", "Belém")),
    ("Escola Aprender Mais Ltda", "company", "358104620001", "Empresarial 300M", ("MT", "5103403", "Cuiabá")),
    ("Gustavo Moreira Freitas", "person", "259384716", "Residencial 100M", ("MS", "5002704", "Campo Grande")),
    ("Larissa Cardoso Mendes", "person", "741962853", "Residencial 50M", ("RN", "2408102", "Natal")),
]


def seed_demo(container: Container) -> str:
    """Creates what is missing of the demo tenant; returns a summary with the URL and login."""
    from retaguarda.identity.install import seed_demo as seed_identity

    settings = container.settings
    identity = seed_identity(container, settings.demo_password)
    tenant_id = identity["tenant_id"]
    admin_id = identity.get("admin_id", "system:seed")
    now = container.clock.now()
    created = 0
    for i, (name, kind, base, plan, (uf, ibge, city)) in enumerate(CUSTOMERS):
        document = make_cpf(base) if kind == "person" else make_cnpj(base)
        local = unicodedata.normalize("NFKD", name.split()[0].lower()).encode("ascii", "ignore").decode()
        meta = Meta(tenant_id=tenant_id, actor=admin_id, correlation_id=new_correlation_id(),
                    at=now - timedelta(days=len(CUSTOMERS) - i))
        try:
            container.customers.register_customer(
                meta, name=name, kind=kind, document=document, email=f"{local}{i}@cliente.demo",
                phones=[f"11 9{8000_0000 + i * 1379:08d}"], plan=plan,
                address={"street": "Rua das Flores", "number": str(10 + i), "district": "Centro",
                         "city": city, "uf": uf, "cep": f"{30000000 + i * 1013:08d}", "ibge_code": ibge},
            )
            created += 1
        except ConflictError:
            continue  # already seeded
    # The `customer` role user sees the portal of the second demo customer (a person).
    _, kind, base, *_ = CUSTOMERS[1]
    linked = container.customers.owner_of(f"customer-document:{tenant_id}", make_cpf(base))
    if linked:
        seed_identity(container, settings.demo_password, link_customer=linked)
    from retaguarda.contexts import CONTEXTS

    for ctx in CONTEXTS:
        if ctx.seed_demo is not None:
            ctx.seed_demo(container, tenant_id, admin_id)
    container.wait_for(container.store.head(), timeout=10)
    from retaguarda.i18n import gettext

    return gettext("Demo tenant ready (%(created)s customers added). Open %(url)s and log in as "
                   "admin@demo.test with password from RETAGUARDA_DEMO_PASSWORD "
                   "(default 'retaguarda-demo'). Other users: manager@, technician@, finance@, auditor@, "
                   "customer@demo.test (same password).", created=created, url=settings.base_url)
