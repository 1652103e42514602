"""Settings from the environment: defaults, precedence, and errors that name the variable."""

from __future__ import annotations

import pytest

from visits import create_app
from visits.settings import ConfigError, Settings, load_settings


def test_defaults_run_locally_with_the_in_process_counter():
    assert load_settings({}) == Settings()
    assert Settings().counter_table is None
    assert Settings().app_version == "dev"


def test_environment_variables_fill_every_setting():
    settings = load_settings(
        {
            "APP_VERSION": "v7",
            "COUNTER_TABLE": "shipshape-visits",
            "COUNTER_KEY": "home",
            "AWS_REGION": "eu-central-1",
            "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:4566",
            "LOG_LEVEL": "debug",
            "SLOW_ENDPOINT_ENABLED": "1",
        }
    )

    assert settings == Settings(
        app_version="v7",
        counter_table="shipshape-visits",
        counter_key="home",
        aws_region="eu-central-1",
        dynamodb_endpoint_url="http://127.0.0.1:4566",
        log_level="DEBUG",
        slow_endpoint_enabled=True,
    )


def test_aws_region_wins_over_aws_default_region():
    settings = load_settings({"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-west-2"})

    assert settings.aws_region == "us-east-2"


def test_aws_default_region_is_used_when_aws_region_is_absent():
    assert load_settings({"AWS_DEFAULT_REGION": "us-west-2"}).aws_region == "us-west-2"


def test_empty_values_count_as_unset():
    assert load_settings({"COUNTER_TABLE": "", "APP_VERSION": "  ", "LOG_LEVEL": ""}) == Settings()


def test_create_app_config_overrides_the_environment():
    settings = load_settings({"APP_VERSION": "from-env"}, overrides={"APP_VERSION": "from-config"})

    assert settings.app_version == "from-config"


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"LOG_LEVEL": "LOUD"}, ["LOG_LEVEL", "LOUD"]),
        ({"COUNTER_TABLE": "visits"}, ["COUNTER_TABLE", "AWS_REGION", "AWS_DEFAULT_REGION"]),
        ({"COUNTER_TABLE": "no spaces", "AWS_REGION": "eu-west-1"}, ["COUNTER_TABLE", "no spaces"]),
        ({"COUNTER_TABLE": "ab", "AWS_REGION": "eu-west-1"}, ["COUNTER_TABLE"]),
        ({"SLOW_ENDPOINT_ENABLED": "maybe"}, ["SLOW_ENDPOINT_ENABLED", "maybe"]),
        ({"COUNTER_KEY": "k" * 2049}, ["COUNTER_KEY"]),
    ],
)
def test_bad_values_raise_an_error_naming_the_variable(environ, names):
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)

    assert all(name in str(raised.value) for name in names)


def test_create_app_refuses_a_bad_environment(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "chatty")

    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        create_app()
