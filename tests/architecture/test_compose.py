"""compose.yaml cannot start containers here, so check what it asks for against the code."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from retaguarda.cli import build_parser
from retaguarda.settings import KNOWN_KEYS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
APP_SERVICES = ("migrate", "web", "worker", "projector", "scheduler")


def _commands(service: dict) -> list[list[str]]:
    command = service["command"]
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in re.split(r"&&|;", command[2])]
    return [command]


def test_the_stack_has_the_services_the_contract_names():
    assert {"postgres", "redis", *APP_SERVICES} <= set(COMPOSE["services"])
    assert COMPOSE["services"]["postgres"]["image"].startswith("postgres:16")
    assert COMPOSE["services"]["redis"]["image"].startswith("redis:7")
    for name in ("postgres", "redis", "web"):
        assert "healthcheck" in COMPOSE["services"][name] or name == "web"


def test_every_service_command_is_a_real_cli_command():
    parser = build_parser()
    subcommands = set(parser._subparsers._group_actions[0].choices)  # noqa: SLF001
    for name in APP_SERVICES:
        for argv in _commands(COMPOSE["services"][name]):
            assert argv[0] == "retaguarda", (name, argv)
            assert argv[1] in subcommands, (name, argv)
            parser.parse_args(argv[1:])  # exits on an unknown argument


def test_every_setting_passed_is_one_the_settings_class_knows():
    for name in APP_SERVICES:
        env = COMPOSE["services"][name].get("environment", {})
        keys = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
        unknown = sorted(k for k in keys if k.startswith("RETAGUARDA_") and k not in KNOWN_KEYS)
        assert unknown == [], (name, unknown)
        assert keys, name


def test_production_settings_in_compose_are_complete():
    env = COMPOSE["services"]["web"]["environment"]
    assert env["RETAGUARDA_ENV"] == "production"
    assert env["RETAGUARDA_DATABASE_URL"].startswith("postgresql://")
    assert env["RETAGUARDA_REDIS_URL"].startswith("redis://")
    assert "RETAGUARDA_SECRET_KEY" in env and "RETAGUARDA_EVENT_KEY" in env
