"""Tax preview of a note (ISS and the 2026 CBS/IBS test-year group): pure Decimal arithmetic.

Rules (half-even to cents at each stored value, never float):
- ISS base = amount - deductions (deductions = DPS `vDedRed/vDR`); ISS = base x iss_rate / 100.
- ISS withheld by the tomador (`tpRetISSQN` 2) is subtracted from the net amount.
- CBS/IBS base = amount - ISS (the transition rule excludes ISS from the CBS/IBS base);
  CBS = base x cbs_rate / 100, IBS-UF = base x ibs_uf_rate / 100, IBS-Mun = base x ibs_mun_rate / 100.
  In 2026 CBS/IBS are informative (test year): they do not change the net amount.
These are previews; the authority's computed values in the NFS-e prevail.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
DEFAULT_CBS_RATE = Decimal("0.90")
"""2026 test-year CBS rate (percent)."""
DEFAULT_IBS_UF_RATE = Decimal("0.10")
"""2026 test-year IBS rate (percent), all of it state (UF) share."""
DEFAULT_IBS_MUN_RATE = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be Decimal, got {type(value).__name__}")
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _pct(base: Decimal, rate: Decimal) -> Decimal:
    return cents(base * rate / Decimal(100))


def compute_taxes(amount: Decimal, deductions: Decimal = Decimal("0"), iss_rate: Decimal = Decimal("0"),
                  iss_withheld: bool = False, cbs_rate: Decimal = DEFAULT_CBS_RATE,
                  ibs_uf_rate: Decimal = DEFAULT_IBS_UF_RATE,
                  ibs_mun_rate: Decimal = DEFAULT_IBS_MUN_RATE) -> dict[str, Decimal]:
    """Returns amount, deductions, iss_base, iss_rate, iss, iss_withheld_value, net,
    ibscbs_base, cbs_rate, cbs, ibs_uf_rate, ibs_uf, ibs_mun_rate, ibs_mun, ibs (uf + mun),
    ibscbs_total (cbs + ibs). Raises ValueError on negative values or deductions > amount."""
    for name, value in (("amount", amount), ("deductions", deductions), ("iss_rate", iss_rate),
                        ("cbs_rate", cbs_rate), ("ibs_uf_rate", ibs_uf_rate),
                        ("ibs_mun_rate", ibs_mun_rate)):
        if not isinstance(value, Decimal):
            raise TypeError(f"{name} must be Decimal, got {type(value).__name__}")
        if not value.is_finite() or value < 0:
            raise ValueError(f"{name} must be a non-negative number")
    amount, deductions = cents(amount), cents(deductions)
    if deductions > amount:
        raise ValueError("deductions cannot exceed the amount")
    iss_base = amount - deductions
    iss = _pct(iss_base, iss_rate)
    withheld = iss if iss_withheld else Decimal("0.00")
    ibscbs_base = amount - iss
    cbs = _pct(ibscbs_base, cbs_rate)
    ibs_uf = _pct(ibscbs_base, ibs_uf_rate)
    ibs_mun = _pct(ibscbs_base, ibs_mun_rate)
    return {
        "amount": amount,
        "deductions": deductions,
        "iss_base": iss_base,
        "iss_rate": iss_rate,
        "iss": iss,
        "iss_withheld_value": withheld,
        "net": amount - withheld,
        "ibscbs_base": ibscbs_base,
        "cbs_rate": cbs_rate,
        "cbs": cbs,
        "ibs_uf_rate": ibs_uf_rate,
        "ibs_uf": ibs_uf,
        "ibs_mun_rate": ibs_mun_rate,
        "ibs_mun": ibs_mun,
        "ibs": ibs_uf + ibs_mun,
        "ibscbs_total": cbs + ibs_uf + ibs_mun,
    }


def ibscbs_for(amount: Decimal, deductions: Decimal, iss_rate: Decimal, *,
               cbs_rate: Decimal = DEFAULT_CBS_RATE, ibs_uf_rate: Decimal = DEFAULT_IBS_UF_RATE,
               ibs_mun_rate: Decimal = DEFAULT_IBS_MUN_RATE, classification_code: str = "000001",
               situation: str = "000", operation_indicator: str = "100301",
               final_consumer: bool = False):
    """An `IbsCbs` for a DpsRequest, with base and values from compute_taxes."""
    from retaguarda.fiscal.backends.base import IbsCbs

    t = compute_taxes(amount, deductions, iss_rate, False, cbs_rate, ibs_uf_rate, ibs_mun_rate)
    return IbsCbs(classification_code=classification_code, situation=situation,
                  operation_indicator=operation_indicator, final_consumer=final_consumer,
                  base=t["ibscbs_base"], cbs_rate=cbs_rate, ibs_uf_rate=ibs_uf_rate,
                  ibs_mun_rate=ibs_mun_rate, cbs_value=t["cbs"], ibs_uf_value=t["ibs_uf"],
                  ibs_mun_value=t["ibs_mun"])
