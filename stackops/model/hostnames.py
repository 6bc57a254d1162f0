"""Host name suggestions per stack hostname theme (OpsWorks's GetHostnameSuggestion)."""

from __future__ import annotations

import itertools
import re

from stackops.model.enums import HostnameTheme
from stackops.model.validation import HOSTNAME_MAX

THEME_NAMES: dict[HostnameTheme, tuple[str, ...]] = {
    HostnameTheme.Baked_Goods: (
        "cake", "croissant", "bagel", "baguette", "brioche", "brownie", "ciabatta", "cookie",
        "crumpet", "cupcake", "danish", "donut", "eclair", "focaccia", "macaron", "madeleine",
        "muffin", "pretzel", "scone", "sourdough", "strudel", "tart", "waffle", "pie",
    ),
    HostnameTheme.Clouds: (
        "cumulus", "stratus", "cirrus", "nimbus", "altocumulus", "altostratus", "cirrocumulus",
        "cirrostratus", "cumulonimbus", "nimbostratus", "stratocumulus", "lenticular",
        "mammatus", "noctilucent", "pileus", "arcus", "asperitas", "fractus", "castellanus",
        "floccus", "undulatus", "virga", "incus", "velum",
    ),
    HostnameTheme.Europe_Cities: (
        "london", "paris", "berlin", "madrid", "rome", "vienna", "prague", "lisbon", "dublin",
        "amsterdam", "brussels", "copenhagen", "stockholm", "oslo", "helsinki", "warsaw",
        "budapest", "athens", "zurich", "munich", "milan", "barcelona", "edinburgh", "krakow",
    ),
    HostnameTheme.Fruits: (
        "apple", "apricot", "banana", "blueberry", "cherry", "date", "fig", "grape", "guava",
        "kiwi", "lemon", "lime", "mango", "melon", "nectarine", "orange", "papaya", "peach",
        "pear", "plum", "quince", "raspberry", "strawberry", "tangerine",
    ),
    HostnameTheme.Greek_Deities_and_Titans: (
        "zeus", "hera", "poseidon", "demeter", "athena", "apollo", "artemis", "ares",
        "aphrodite", "hephaestus", "hermes", "hestia", "dionysus", "hades", "persephone",
        "gaia", "cronus", "rhea", "hyperion", "themis", "mnemosyne", "prometheus", "atlas",
        "helios", "selene", "eos",
    ),
    HostnameTheme.Legendary_creatures_from_Japan: (
        "kappa", "tengu", "kitsune", "tanuki", "oni", "baku", "kirin", "ryu", "yurei", "nue",
        "tsuchinoko", "kodama", "bakeneko", "nekomata", "rokurokubi", "jorogumo", "umibozu",
        "zashiki-warashi", "nurarihyon", "amabie", "komainu", "shisa", "raiju", "yamata-no-orochi",
    ),
    HostnameTheme.Planets_and_Moons: (
        "mercury", "venus", "earth", "mars", "jupiter", "saturn", "uranus", "neptune", "pluto",
        "luna", "phobos", "deimos", "io", "europa", "ganymede", "callisto", "titan",
        "enceladus", "mimas", "iapetus", "triton", "charon", "miranda", "oberon", "titania",
    ),
    HostnameTheme.Roman_Deities: (
        "jupiter", "juno", "minerva", "mars", "venus", "neptune", "vulcan", "vesta", "ceres",
        "diana", "apollo", "mercury", "bacchus", "pluto", "janus", "saturn", "aurora",
        "fortuna", "faunus", "flora", "victoria", "bellona", "cupid", "sol",
    ),
    HostnameTheme.Scottish_Islands: (
        "skye", "mull", "islay", "jura", "arran", "lewis", "harris", "iona", "tiree", "coll",
        "eigg", "rum", "muck", "canna", "barra", "hoy", "westray", "unst", "yell", "fetlar",
        "bute", "colonsay", "staffa", "raasay", "lismore", "gigha",
    ),
    HostnameTheme.US_Cities: (
        "boston", "chicago", "denver", "seattle", "austin", "portland", "phoenix", "dallas",
        "houston", "atlanta", "miami", "detroit", "memphis", "nashville", "omaha", "tucson",
        "fresno", "sacramento", "oakland", "tampa", "orlando", "cleveland", "pittsburgh",
        "baltimore", "richmond",
    ),
    HostnameTheme.Wild_Cats: (
        "lion", "tiger", "leopard", "jaguar", "cheetah", "cougar", "lynx", "bobcat", "ocelot",
        "caracal", "serval", "margay", "jaguarundi", "puma", "panther", "snow-leopard",
        "clouded-leopard", "manul", "kodkod", "oncilla", "fishing-cat", "sand-cat", "wildcat",
    ),
}  # fmt: skip


def hostname_stem(shortname: str) -> str:
    """A layer shortname reduced to host name characters ("php.app_1" -> "php-app-1")."""
    stem = re.sub(r"[^a-z0-9]+", "-", shortname.lower()).strip("-")
    return stem or "host"


def suggest_hostname(theme: HostnameTheme, layer_shortname: str, taken: set[str]) -> str:
    """The next free host name for a new instance of a layer (case-insensitive against `taken`).

    Layer_Dependent gives `<shortname><n>` with the smallest n >= 1 not taken; other
    themes give the first unused name of the theme, then `<name>-<n>` from n = 2.
    """
    used = {name.lower() for name in taken}
    theme = HostnameTheme(theme)
    if theme is HostnameTheme.Layer_Dependent:
        stem = hostname_stem(layer_shortname)
        for n in itertools.count(1):
            suffix = str(n)
            candidate = stem[: HOSTNAME_MAX - len(suffix)].rstrip("-") + suffix
            if candidate not in used:
                return candidate
    names = THEME_NAMES[theme]
    for name in names:
        if name not in used:
            return name
    for n in itertools.count(2):
        for name in names:
            candidate = f"{name}-{n}"
            if candidate not in used:
                return candidate
    raise AssertionError("unreachable")  # pragma: no cover
