"""The utility portal port (`base`) and its adapters: `energisa` (real: Playwright login + httpx
JSON calls) and `sandbox` (deterministic data for the demo tenant, no network)."""
