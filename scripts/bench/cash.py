"""Cash import benchmark: a 50,000-line OFX statement previewed, confirmed (recorded in atomic
batches) and matched against open invoices. Prints one JSON object.

    .venv/bin/python scripts/bench/cash.py [--lines 50000] [--invoices 600] [--database-url postgresql://…]

Set-up (not measured): customers and issued invoices (PIX txid + BB boleto). The statement has
`--invoices` credits that pay those invoices (half by the txid in MEMO, half by payer CPF +
amount); every other line is an unmatched credit or a debit. Measured: preview (streamed parse
+ duplicate check), confirm (record + match + pay through billing), movements/s and matched/s,
peak RSS; then the same file again (records 0). `parse_peak_mb_*` compares the traced Python
memory of parsing 5,000 and 50,000 lines: a streamed parse stays flat.
"""

from __future__ import annotations

import io
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import (
    Timer,
    base_parser,
    bench_container,
    bench_meta,
    customer_fields,
    emit,
    peak_rss_mb,
    quiet_logs,
)


def write_statement(path: Path, lines: int, payers: list[tuple[str, str, Decimal, str]]) -> None:
    """OFX 1.x SGML (latin-1, unclosed leaf tags), written line by line."""
    with path.open("w", encoding="latin-1", newline="\r\n") as out:
        out.write(
            "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
            "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX>\n<BANKMSGSRSV1>\n<STMTTRNRS>\n"
            "<STMTRS>\n<CURDEF>BRL\n<BANKACCTFROM>\n<BANKID>1\n<ACCTID>12345-6\n</BANKACCTFROM>\n"
            "<BANKTRANLIST>\n"
        )
        start = date(2026, 1, 1)
        for i in range(lines):
            day = start + timedelta(days=i % 28)
            if i < len(payers):
                txid, cpf, amount, how = payers[i]
                memo = f"PIX RECEBIDO {txid}" if how == "txid" else f"TED RECEBIDA CPF {cpf}"
            elif i % 3 == 0:
                amount, memo = -Decimal(10 + i % 500) / 10, f"PAGAMENTO FORNECEDOR {i}"
            else:
                amount, memo = Decimal(1000 + i % 9000) / 100 + Decimal("0.07"), f"DEPÓSITO IDENTIFICADO {i}"
            out.write(
                f"<STMTTRN>\n<TRNTYPE>{'CREDIT' if amount > 0 else 'DEBIT'}\n"
                f"<DTPOSTED>{day:%Y%m%d}120000[-3:BRT]\n<TRNAMT>{str(amount).replace('.', ',')}\n"
                f"<FITID>{i:010d}\n<MEMO>{memo}\n</STMTTRN>\n"
            )
        out.write(
            "</BANKTRANLIST>\n<LEDGERBAL>\n<BALAMT>0,00\n<DTASOF>20260201\n</LEDGERBAL>\n</STMTRS>\n"
            "</STMTTRNRS>\n</BANKMSGSRSV1>\n</OFX>\n"
        )


def parse_peak_mb(path: Path) -> float:
    from retaguarda.cash.formats import read

    tracemalloc.start()
    with path.open("rb") as fh:
        n = sum(1 for _ in read(fh, "ofx"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert n > 0
    return round(peak / (1024 * 1024), 2)


def setup(c: Any, invoices: int) -> list[tuple[str, str, Decimal, str]]:
    from retaguarda.billing.install import DEMO_SETTINGS

    meta = bench_meta(0)
    c.billing.configure(meta, **DEMO_SETTINGS)
    payers = []
    for i in range(invoices):
        fields = customer_fields(i)
        cust = c.customers.register_customer(bench_meta(i), **fields).aggregate
        price = Decimal(5000 + i) / 100
        inv = c.billing.create_invoice(
            bench_meta(i),
            customer_id=str(cust.id),
            due_date=date(2026, 1, 10),
            items=[{"description": "Plano", "unit_price": str(price)}],
        ).aggregate
        c.billing.issue_invoice(bench_meta(i), str(inv.id))
        issued = c.billing.get_invoice(meta.tenant_id, str(inv.id))
        payers.append(
            (issued.pix["txid"], fields["document"], issued.total, "txid" if i % 2 == 0 else "document")
        )
    return payers


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--invoices", type=int, default=600)
    args = parser.parse_args()
    quiet_logs()
    with bench_container(args.database_url) as c:
        payers = setup(c, args.invoices)
        c.runner.catch_up()
        meta = bench_meta(10)
        acc = c.cash.open_account(
            meta, name="Bench", bank="001", agency="1234-5", number="12345-6", opening_date=date(2025, 12, 31)
        ).aggregate
        c.runner.catch_up()
        tmp = Path(c.settings.var_dir)
        big, small = tmp / "big.ofx", tmp / "small.ofx"
        write_statement(big, args.lines, payers)
        write_statement(small, max(args.lines // 10, 1), payers[: args.lines // 10])
        parse_peak_mb(small)  # warm-up: imports and caches are not the parse's memory
        parse_small, parse_big = parse_peak_mb(small), parse_peak_mb(big)
        t = Timer()
        with big.open("rb") as fh:
            imp = c.cash.preview_import(meta, str(acc.id), fh, filename="big.ofx").aggregate
        preview_s = t.seconds
        t = Timer()
        result = c.cash.confirm_import(meta, str(imp.id))
        confirm_s = t.seconds
        t = Timer()
        c.runner.catch_up(timeout=600)
        catch_up_s = t.seconds
        t = Timer()
        again = c.cash.preview_import(meta, str(acc.id), io.BytesIO(big.read_bytes())).aggregate
        again_result = c.cash.confirm_import(meta, str(again.id))
        again_s = t.seconds
        emit(
            {
                "benchmark": "cash_import_match",
                "database": "postgresql" if args.database_url else "sqlite",
                "lines": args.lines,
                "file_mb": round(big.stat().st_size / (1024 * 1024), 2),
                "open_invoices": args.invoices,
                "preview_seconds": round(preview_s, 2),
                "preview_lines_per_second": round(args.lines / preview_s),
                "confirm_seconds": round(confirm_s, 2),
                "recorded": result.recorded,
                "matched": result.matched,
                "unmatched_credits": result.unmatched,
                "movements_per_second": round(result.recorded / confirm_s),
                "end_to_end_movements_per_second": round(result.recorded / (preview_s + confirm_s)),
                "matched_per_second": round(result.matched / confirm_s, 1),
                "projection_catch_up_seconds": round(catch_up_s, 2),
                "reimport_seconds": round(again_s, 2),
                "reimport_duplicates": again.duplicates,
                "reimport_recorded": again_result.recorded,
                "parse_peak_mb_small": parse_small,
                "parse_peak_mb_big": parse_big,
                "parse_lines_small": max(args.lines // 10, 1),
                "peak_rss_mb": peak_rss_mb(),
            }
        )


if __name__ == "__main__":
    main()
