"""CNPJ checks: watch-list, provider chain with cache and circuit breakers, change alerts, quotas,
metering and LGPD retention (see docs/cnpj.md)."""

from retaguarda.cnpj.domain import CnpjCheck, CnpjSettings, Target

__all__ = ["CnpjCheck", "CnpjSettings", "Target"]
