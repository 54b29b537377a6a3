"""Every user-facing string is translatable and translated into Bahasa Indonesia."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from lti_tool.activities import ActivityRegistry

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "lti_tool/translations/id/LC_MESSAGES/messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
# Plugins with a catalog of their own (the others' strings are in the core catalog).
OWN = [p for p in ActivityRegistry.discover() if p.translations_dir is not None]


def _plugin_dir(plugin) -> Path:
    return plugin.translations_dir.parent


def _catalogs():
    """(name, folder to extract from, method map, .po) for the core and each plugin."""
    core_map = [(f"plugins/{p.name}/**", "ignore") for p in OWN] + [
        ("lti_tool/**.py", "python"),
        ("course_templates/**.py", "python"),
        ("grading/**.py", "python"),
        ("plugins/**.py", "python"),
        ("lti_tool/templates/**.html", "jinja2"),
        ("plugins/**/templates/**.html", "jinja2"),
    ]
    yield "core", ROOT, core_map, PO
    for p in OWN:
        yield (
            p.name,
            _plugin_dir(p),
            [("tests/**", "ignore"), ("**.py", "python"), ("templates/**.html", "jinja2")],
            p.translations_dir / "id" / "LC_MESSAGES" / "messages.po",
        )


CATALOGS = list(_catalogs())
IDS = [c[0] for c in CATALOGS]


def _extracted(folder: Path, method_map) -> set[str]:
    ids = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(folder), method_map, keywords=KEYWORDS
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def _read(po: Path):
    with po.open("rb") as f:
        return read_po(f, locale="id")


@pytest.mark.parametrize(("name", "folder", "method_map", "po"), CATALOGS, ids=IDS)
def test_every_string_has_an_indonesian_translation(name, folder, method_map, po):
    catalog = _read(po)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and all(m.string if isinstance(m.string, tuple) else [m.string]) and not m.fuzzy
    }
    missing = sorted(_extracted(folder, method_map) - translated)
    assert not missing, f"{name}: run `make translations` and translate: {missing}"


@pytest.mark.parametrize(("name", "folder", "method_map", "po"), CATALOGS, ids=IDS)
def test_compiled_catalog_is_up_to_date(name, folder, method_map, po):
    with po.with_suffix(".mo").open("rb") as f:
        compiled = read_mo(f)

    def as_map(catalog):
        return {
            (tuple(m.id) if isinstance(m.id, list | tuple) else m.id): (
                tuple(m.string) if isinstance(m.string, list | tuple) else m.string
            )
            for m in catalog
            if m.id
        }

    source, mo = as_map(_read(po)), as_map(compiled)
    assert mo == source, f"{name}: run `make translations` to recompile messages.mo"


def test_pages_default_to_indonesian_and_follow_the_session_locale(app):
    client = app.test_client()
    assert "Halaman ini tidak ada." in client.get("/nowhere").get_data(as_text=True)
    with client.session_transaction() as s:
        s["locale"] = "en"
    assert "This page does not exist." in client.get("/nowhere").get_data(as_text=True)
