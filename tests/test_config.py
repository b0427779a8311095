"""Settings precedence, init, and the errors a user sees for a bad config."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from digest.config import (
    Localised,
    Settings,
    default_config_text,
    load_settings,
    localised,
    settings_reference,
)
from digest.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_apply_without_a_file(tmp_path: Path) -> None:
    settings = load_settings(env={})
    assert settings.config_path is None
    assert settings.site.languages == ("en", "ar")
    assert settings.mail.transport == "maildir:./outbox"
    assert settings.database_url == f"sqlite:///{(tmp_path / 'digest.db').resolve()}"


def test_precedence_defaults_file_environment_option(tmp_path: Path) -> None:
    config = write(
        tmp_path / "digest.toml",
        '[mail]\ntransport = "maildir:/from-file"\nconcurrency = 3\n'
        '[database]\nurl = "sqlite:///file.db"\n',
    )
    from_file = load_settings(config, env={})
    assert from_file.mail.transport == "maildir:/from-file"
    assert from_file.mail.concurrency == 3
    assert from_file.mail.reply_to == ""  # missing keys take their defaults

    env = {"DIGEST_TRANSPORT": "maildir:/from-env", "DIGEST_DATABASE_URL": "sqlite:///env.db"}
    from_env = load_settings(config, env=env)
    assert from_env.mail.transport == "maildir:/from-env"
    assert from_env.database_url.endswith("/env.db")

    from_option = load_settings(
        config, env=env, overrides={"database.url": "sqlite:///opt.db", "mail.concurrency": 9}
    )
    assert from_option.database_url.endswith("/opt.db")
    assert from_option.mail.concurrency == 9
    assert from_option.mail.transport == "maildir:/from-env"


def test_config_named_by_environment(tmp_path: Path) -> None:
    config = write(tmp_path / "other.toml", '[site]\nname = "Other"\n')
    assert load_settings(env={"DIGEST_CONFIG": str(config)}).site.name == "Other"


def test_relative_sqlite_path_is_relative_to_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    config = write(folder / "digest.toml", '[database]\nurl = "sqlite:///data/x.db"\n')
    settings = load_settings(config, env={})
    assert settings.database_url == f"sqlite:///{(folder / 'data' / 'x.db').resolve()}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[mail\ntransport = 1\n", "invalid TOML"),
        ("[mail]\nconcurrency = 'many'\n", "[mail] concurrency: expected a whole number"),
        ("[mail]\ntransprot = 'x'\n", "unknown key [mail] transprot"),
        ("[mailer]\nx = 1\n", "unknown section [mailer]"),
        ("[schedule]\nat = '25:00'\n", "[schedule] at: expected HH:MM"),
        ("[schedule]\ntimezone = 'Mars/Olympus'\n", "[schedule] timezone: unknown time zone"),
        ("[site]\nlanguages = 'en, ar'\nname = 3\n", "[site] name: expected a string"),
        # TOML has nan and inf: no bound holds for them
        ("[mail]\ndata_timeout = nan\n", "[mail] data_timeout: expected a finite number"),
        ("[mail]\ntimeout = inf\n", "[mail] timeout: expected a finite number"),
        ("[mail]\nrate = 1e400\n", "[mail] rate: expected a finite number"),
        # a number in quotes is text, in the file (an environment variable is text anyway)
        ("[mail]\nretry_backoff = 'nan'\n", "[mail] retry_backoff: expected a number, got 'nan'"),
        ('[selection]\ntop_stories = "3"\n', "[selection] top_stories: expected a whole number"),
        ("[selection]\nrelated_floor = '0.3'\n", "[selection] related_floor: expected a number"),
        # numbers that become dates or timers stay far from an overflow
        ("[selection]\nno_repeat_days = 3000000\n", "[selection] no_repeat_days: must be at most"),
        ("[selection]\nwindow_hours = 100000\n", "[selection] window_hours: must be at most"),
        ("[selection]\nwindow_hours = 0\n", "[selection] window_hours: must be at least 1"),
        ("[selection]\nrecency_half_life_hours = 0.0\n", "recency_half_life_hours: must be more"),
        ("[subscribe]\nconfirm_hours = 10000000\n", "[subscribe] confirm_hours: must be at most"),
        ("[mail]\nretry_backoff_max = 1e300\n", "[mail] retry_backoff_max: must be at most"),
        ("[database]\npool_size = 99999999999\n", "[database] pool_size: must be at most"),
        ("[schedule]\ngrace = '1e300d'\n", "[schedule] grace: must be at most 366d"),
        ("[schedule]\nretry_every = '99999999d'\n", "[schedule] retry_every: must be at most"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    config = write(tmp_path / "digest.toml", text)
    with pytest.raises(ConfigError) as error:
        load_settings(config, env={})
    assert str(config) in str(error.value)
    assert expected in str(error.value)


def test_numbers_from_options_are_text_and_bounded(tmp_path: Path) -> None:
    config = write(tmp_path / "digest.toml", "")
    settings = load_settings(config, env={}, overrides={"mail.rate": "2.5"})
    assert settings.mail.rate == 2.5
    with pytest.raises(ConfigError, match=r"option for mail.rate: \[mail\] rate: must be at most"):
        load_settings(config, env={}, overrides={"mail.rate": "1e12"})


def test_invalid_toml_error_names_the_line(tmp_path: Path) -> None:
    config = write(tmp_path / "digest.toml", '[mail]\nfrom = "a@b.example"\nrate = = 3\n')
    with pytest.raises(ConfigError, match="line 3"):
        load_settings(config, env={})


def test_explicit_missing_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_secrets_come_from_environment_and_are_never_shown() -> None:
    settings = load_settings(
        env={"DIGEST_SMTP_PASSWORD": "hunter2-secret", "DIGEST_SECRET_KEY": "k" * 40}
    )
    assert settings.secrets.smtp_password == "hunter2-secret"
    assert settings.secret_key() == "k" * 40
    assert "hunter2" not in repr(settings)
    assert "kkkk" not in repr(settings)


def test_secrets_in_the_file_are_rejected(tmp_path: Path) -> None:
    config = write(tmp_path / "digest.toml", '[mail]\npassword = "oops"\n')
    with pytest.raises(ConfigError, match="unknown key"):
        load_settings(config, env={})


def test_default_config_text_documents_every_setting_and_parses_to_defaults() -> None:
    text = default_config_text()
    document = tomllib.loads(text)
    defaults = Settings()
    for dotted, default, help_text in settings_reference():
        section, key = dotted.split(".")
        assert key in document[section], dotted
        assert f"# {help_text}" in text
        value = document[section][key]
        expected = list(default) if isinstance(default, tuple) else default
        if isinstance(default, Localised) and default.values:
            expected = dict(default.values)
        assert value == expected, dotted
    assert document["site"]["languages"] == ["en", "ar"]
    assert defaults.site.languages == ("en", "ar")


def test_every_setting_and_variable_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for dotted, _default, _help in settings_reference():
        assert f"`{dotted}`" in readme, f"{dotted} is not documented in README.md"
    for variable in (
        "DIGEST_CONFIG",
        "DIGEST_DATABASE_URL",
        "DIGEST_TRANSPORT",
        "DIGEST_SMTP_PASSWORD",
        "DIGEST_SECRET_KEY",
    ):
        assert variable in readme


def test_texts_may_be_given_per_language(tmp_path: Path) -> None:
    config = write(
        tmp_path / "digest.toml",
        '[site]\nname = {en = "The Paper", ar = "الصحيفة"}\ntagline = "Daily"\n'
        '[mail]\nfrom_name = {ar = "الصحيفة اليومية"}\n',
    )
    settings = load_settings(config, env={})
    assert settings.site.name == "The Paper"
    assert localised(settings.site.name, "ar") == "الصحيفة"
    assert localised(settings.site.name, "fr") == "The Paper"
    assert localised(settings.site.tagline, "ar") == "Daily"
    assert localised(settings.mail.from_name, "ar") == "الصحيفة اليومية"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[site]\nname = {en = 3}\n", "[site] name: expected a string or a table"),
        ('[site]\nlanguages = {en = "x"}\n', "[site] languages: expected a list of strings"),
        ('[mail]\nsubject = "{headline} {author}"\n', "[mail] subject: unknown field {author}"),
        ('[site]\npreheader = {ar = "{stories"}\n', "[site] preheader:"),
    ],
)
def test_bad_per_language_texts_and_templates_name_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    config = write(tmp_path / "digest.toml", text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(config, env={})


@pytest.mark.parametrize(
    ("key", "problem"),
    [("   \t", "empty"), ("short-key", "too short"), (" " + "k" * 15, "too short")],
)
def test_a_blank_or_short_secret_key_is_refused_where_it_is_read(
    tmp_path: Path, key: str, problem: str
) -> None:
    with pytest.raises(
        ConfigError, match=f"^environment DIGEST_SECRET_KEY: the secret key is {problem}"
    ):
        load_settings(env={"DIGEST_SECRET_KEY": key})
    config = write(tmp_path / "digest.toml", "")
    (tmp_path / "secret.key").write_text(key + "\n", encoding="utf-8")
    settings = load_settings(config, env={})
    with pytest.raises(ConfigError, match=f"secret.key: the secret key is {problem}") as refused:
        settings.secret_key()
    assert str(tmp_path / "secret.key") in str(refused.value)
    (tmp_path / "secret.key").write_text("k" * 16 + "\n", encoding="utf-8")
    assert settings.secret_key() == "k" * 16
    assert load_settings(env={"DIGEST_SECRET_KEY": "k" * 16}).secret_key() == "k" * 16
