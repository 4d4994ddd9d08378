from __future__ import annotations

from pathlib import Path

import pytest

from config import DEFAULT_SETTINGS_FILE, PROJECT_ROOT, ConfigError, Settings, load_settings, settings_file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_file_environment_and_flags_in_that_order(tmp_path: Path) -> None:
    path = write(tmp_path, '[crawl]\nconcurrency = 4\ndelay_s = 1.5\n[database]\nurl = "sqlite:///file.db"\n')
    environ = {"TISIWATCH_CRAWL_CONCURRENCY": "6", "TISIWATCH_DATABASE_URL": "postgresql+psycopg://db/x"}
    settings = load_settings(path, overrides={"crawl": {"concurrency": 2}}, environ=environ)
    assert settings.crawl.concurrency == 2  # flag beats environment beats file
    assert settings.crawl.delay_s == 1.5  # from the file
    assert settings.database_url == "postgresql+psycopg://db/x"  # environment beats file
    assert settings.crawl.retries == 3  # default


def test_data_dir_is_relative_to_the_settings_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, 'data_dir = "work"\n'), environ={})
    assert settings.data_dir == (tmp_path / "work").resolve()
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'work' / 'tisiwatch.db'}"


def test_list_values_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""), environ={"TISIWATCH_SITES_ENABLED": "demo-html,demo-api"})
    assert settings.sites.enabled == ["demo-html", "demo-api"]


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("[crawl]\nconcurency = 4\n", {}, "settings.toml: crawl.concurency: unknown key"),
        (
            "[crawl]\nconcurrency = 0\n",
            {},
            "settings.toml: crawl.concurrency: Input should be greater than or equal to 1",
        ),
        ("colour = 1\n", {}, "settings.toml: colour: unknown key"),
        (
            "",
            {"TISIWATCH_CRAWL_RETRIES": "many"},
            "environment: crawl.retries: Input should be a valid integer",
        ),
        ("", {"TISIWATCH_NOPE": "1"}, "environment: nope: unknown key"),
        ("[crawl\n", {}, "settings.toml: not valid TOML"),
    ],
)
def test_bad_settings_stop_at_start_naming_the_key(
    tmp_path: Path, text: str, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), environ=environ)
    assert message in str(caught.value)


def test_a_missing_settings_file_named_explicitly_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_the_shipped_settings_file_is_valid() -> None:
    settings = load_settings(Path(__file__).resolve().parent.parent / "settings.toml", environ={})
    assert settings.report.timezone == "Asia/Bangkok"


def test_outside_a_folder_with_settings_the_defaults_apply_there_not_where_tisiwatch_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command run in another folder never falls back to the installation's settings.toml and its
    var/: with no settings file, the built-in defaults apply and the data directory is ./var."""
    monkeypatch.chdir(tmp_path)
    assert settings_file(environ={}) is None
    settings = load_settings(environ={})
    assert settings.data_dir == (tmp_path / "var").resolve()
    assert PROJECT_ROOT not in settings.data_dir.parents
    (tmp_path / "settings.toml").write_text('data_dir = "work"\n', encoding="utf-8")
    assert settings_file(environ={}) == tmp_path / "settings.toml"
    assert load_settings(environ={}).data_dir == (tmp_path / "work").resolve()


def test_the_shipped_settings_file_holds_the_built_in_defaults() -> None:
    """settings.toml documents every default: reading it changes nothing but where data_dir is."""
    shipped = load_settings(DEFAULT_SETTINGS_FILE, environ={})
    assert shipped.model_dump(exclude={"data_dir"}) == Settings().model_dump(exclude={"data_dir"})


def test_an_unreadable_settings_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the settings file"):
        load_settings(tmp_path, environ={})  # a folder, not a file
