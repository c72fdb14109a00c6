"""Fake servers on 127.0.0.1 speaking each vendor's protocol (the real clients are tested against them)."""
