"""Installs the field context: the service, photo storage, announcements, and its demo data."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from retaguarda.field.application import Field, WorkingHours
from retaguarda.field.domain import ServiceOrder
from retaguarda.files import AttachmentStore
from retaguarda.shared.meta import Meta, new_correlation_id

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


class CalendarHours:
    """The support calendar as field sees it: a visit lies between the day's first and last working hour."""

    def __init__(self, calendar: Any) -> None:
        self.calendar = calendar

    def covers(self, start: datetime, end: datetime) -> bool:
        from zoneinfo import ZoneInfo

        day = start.astimezone(ZoneInfo("America/Sao_Paulo")).date()
        windows = self.calendar.windows(day)
        return bool(windows) and windows[0][0] <= start and end <= windows[-1][1]


def install(container: Container) -> None:
    def customer_exists(tenant_id: str, customer_id: str) -> bool:
        from retaguarda.customers import Customer

        try:
            found = container.customers.find(Customer, uuid.UUID(str(customer_id)))
        except ValueError:
            return False
        return found is not None and found.tenant_id == tenant_id

    def working_hours(tenant_id: str) -> WorkingHours:
        return CalendarHours(container.support.get_settings(tenant_id).calendar())

    container.service_orders = Field(container.store, container.after_write, customer_exists=customer_exists,
                                     working_hours=working_hours)
    settings = container.settings
    container.field_photos = AttachmentStore((settings.attachments_dir or settings.var_dir / "attachments"),
                                             max_bytes=8 * 1024 * 1024)
    from retaguarda.field.notify import routes

    container.announcers[ServiceOrder] = routes


# Demo data ---------------------------------------------------------------------------------------
def seed_demo(container: Container, tenant_id: str, actor: str) -> None:
    """A few orders for the demo tenant: today's visits for the technician, one unscheduled,
    one completed last week. Idempotent: does nothing once the tenant has an order."""
    from projections.identity.user_directory import users
    from retaguarda.field.application import SEQUENCE
    from retaguarda.seed import CUSTOMERS
    from retaguarda.shared.documents import make_cnpj, make_cpf
    from retaguarda.shared.sequence import Sequence, sequence_id

    field = container.service_orders
    if field.find(Sequence, sequence_id(tenant_id, SEQUENCE)) is not None:
        return
    import sqlalchemy as sa

    with container.engine.connect() as conn:
        techs = [r.id for r in conn.execute(sa.select(users.c.id).where(
            users.c.tenant_id == tenant_id, users.c.role == "technician", users.c.active.is_(True))
            .order_by(users.c.email)).all()]
    customers = []
    for _name, kind, base, *_ in CUSTOMERS[:6]:
        document = make_cpf(base) if kind == "person" else make_cnpj(base)
        owner = container.customers.owner_of(f"customer-document:{tenant_id}", document)
        if owner:
            customers.append(owner)
    if not customers or not techs:
        return
    now = container.clock.now()
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/Sao_Paulo")
    today = now.astimezone(zone).date()
    # next working day when today is a weekend
    while today.weekday() >= 5:
        today += timedelta(days=1)

    def meta(at: datetime = now) -> Meta:
        return Meta(tenant_id=tenant_id, actor=actor, correlation_id=new_correlation_id(), at=at)

    def slot(hour: int, minutes: int = 90) -> tuple[datetime, datetime]:
        start = datetime(today.year, today.month, today.day, hour, 0, tzinfo=zone)
        return start, start + timedelta(minutes=minutes)

    plan = [
        (customers[1], "installation", "Fibre installation, 300 Mbps plan", 9),
        (customers[2], "repair", "Signal at the ONU is low (-27 dBm)", 11),
        (customers[3], "maintenance", "Preventive check of the drop cable", 14),
    ]
    for customer_id, kind, description, hour in plan:
        order = field.open_order(meta(), customer_id=customer_id, kind=kind, description=description).aggregate
        start, end = slot(hour)
        field.schedule(meta(), str(order.id), technician_id=techs[0], start=start, end=end)
    field.open_order(meta(), customer_id=customers[0], kind="visit", priority="high",
                     description="Customer asks for a site survey for a second access point")
    done = field.open_order(meta(), customer_id=customers[4], kind="removal", description="Contract ended").aggregate
    last_week = now - timedelta(days=7)
    field.schedule(meta(last_week), str(done.id), technician_id=techs[-1],
                   start=last_week.replace(hour=13, minute=0, second=0, microsecond=0),
                   end=last_week.replace(hour=14, minute=0, second=0, microsecond=0))
    field.start(meta(last_week), str(done.id))
    field.complete(meta(last_week + timedelta(minutes=40)), str(done.id),
                   checklist=[{"item": "Equipment collected", "done": True}],
                   materials=[{"sku": "ONU-ZTE-F670L", "description": "ONU returned", "quantity": "1",
                               "serial": "ZTEGC8A1B2C3"}], notes="Equipment collected in good condition")
    container.wait_for(container.store.head(), timeout=10)
