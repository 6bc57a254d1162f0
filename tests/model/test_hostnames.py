"""Host name suggestions per theme."""

from __future__ import annotations

import pytest

from stackops.model.enums import HostnameTheme
from stackops.model.hostnames import THEME_NAMES, hostname_stem, suggest_hostname
from stackops.model.validation import validate_hostname


def test_layer_dependent_takes_the_smallest_free_number() -> None:
    theme = HostnameTheme.Layer_Dependent
    assert suggest_hostname(theme, "app", set()) == "app1"
    assert suggest_hostname(theme, "app", {"app1", "app3"}) == "app2"
    assert suggest_hostname(theme, "app", {"APP1"}) == "app2"  # host names ignore case


def test_layer_dependent_reduces_the_shortname_to_host_characters() -> None:
    assert hostname_stem("php.app_x") == "php-app-x"
    assert hostname_stem("___") == "host"
    long = suggest_hostname(HostnameTheme.Layer_Dependent, "a" * 200, set())
    assert long == "a" * 62 + "1"
    validate_hostname(long)


def test_themes_give_their_first_unused_name() -> None:
    assert suggest_hostname(HostnameTheme.Baked_Goods, "app", set()) == "cake"
    assert suggest_hostname(HostnameTheme.Baked_Goods, "app", {"cake"}) == "croissant"


def test_exhausted_theme_falls_back_to_numbered_names() -> None:
    names = THEME_NAMES[HostnameTheme.Fruits]
    assert suggest_hostname(HostnameTheme.Fruits, "app", set(names)) == f"{names[0]}-2"
    taken = set(names) | {f"{names[0]}-2"}
    assert suggest_hostname(HostnameTheme.Fruits, "app", taken) == f"{names[1]}-2"


@pytest.mark.parametrize(
    "theme", [t for t in HostnameTheme if t is not HostnameTheme.Layer_Dependent]
)
def test_every_theme_has_20_valid_unique_names(theme: HostnameTheme) -> None:
    names = THEME_NAMES[theme]
    assert len(names) >= 20
    assert len(set(names)) == len(names)
    for name in names:
        assert name == name.lower()
        validate_hostname(name)


def test_aliases_of_theme_names_work() -> None:
    assert suggest_hostname("European_Cities", "x", set()) == "london"  # type: ignore[arg-type]
