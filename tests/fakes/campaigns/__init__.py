"""Fake campaign providers (CDA, GOSAC, NOAH, Google RBM, SMS, Salesforce MC) and a fake WordPress
callback receiver, each a real HTTP server on 127.0.0.1. See `server.py` for the shared ledger,
fault injection and admin endpoints; `python -m tests.fakes.campaigns.<name> --port N` runs one
as its own process."""
