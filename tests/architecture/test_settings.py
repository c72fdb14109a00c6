"""Settings are read once, typed, and refuse to start production without secrets."""

from __future__ import annotations

import stat

import pytest

from retaguarda.settings import SettingsError, load_settings


def test_development_generates_keys_once_with_private_permissions(tmp_path):
    first = load_settings({"RETAGUARDA_VAR_DIR": str(tmp_path)})
    second = load_settings({"RETAGUARDA_VAR_DIR": str(tmp_path)})
    assert first.secret_key and first.secret_key == second.secret_key
    assert first.event_key == second.event_key
    for name in ("secret_key.txt", "event_key.txt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_production_without_a_secret_stops_naming_it(tmp_path):
    with pytest.raises(SettingsError, match="RETAGUARDA_SECRET_KEY"):
        load_settings({"RETAGUARDA_ENV": "production", "RETAGUARDA_VAR_DIR": str(tmp_path)})
    assert not (tmp_path / "secret_key.txt").exists()


def test_typed_values_and_errors(tmp_path):
    s = load_settings({"RETAGUARDA_PORT": "8123", "RETAGUARDA_VAR_DIR": str(tmp_path),
                       "RETAGUARDA_CORS_ORIGINS": "https://a.example, https://b.example"})
    assert s.port == 8123 and s.cors_origins == ("https://a.example", "https://b.example")
    with pytest.raises(SettingsError, match="RETAGUARDA_PORT"):
        load_settings({"RETAGUARDA_PORT": "eighty", "RETAGUARDA_VAR_DIR": str(tmp_path)})
    with pytest.raises(SettingsError, match="RETAGUARDA_EVENT_KEY"):
        load_settings({"RETAGUARDA_EVENT_KEY": "short", "RETAGUARDA_VAR_DIR": str(tmp_path)})


def test_postgres_url_configures_both_stores(tmp_path):
    s = load_settings({"RETAGUARDA_DATABASE_URL": "postgresql://u:p@db:5433/rg", "RETAGUARDA_VAR_DIR": str(tmp_path)})
    env = s.eventsourcing_env()
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == ("db", "5433", "rg")
    assert s.sqlalchemy_url() == "postgresql+psycopg://u:p@db:5433/rg"
    assert env["CIPHER_TOPIC"] == "eventsourcing.cryptography:AESCipher"
