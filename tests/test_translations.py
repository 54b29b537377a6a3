"""Every user-facing string is translatable and translated into Bahasa Indonesia."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "lti_tool/translations/id/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _extracted() -> set[str]:
    method_map = [
        ("lti_tool/**.py", "python"),
        ("course_templates/**.py", "python"),
        ("grading/**.py", "python"),
        ("plugins/**.py", "python"),
        ("lti_tool/templates/**.html", "jinja2"),
        ("plugins/**/templates/**.html", "jinja2"),
    ]
    ids = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, keywords=KEYWORDS
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="id")


def test_every_string_has_an_indonesian_translation():
    catalog = _catalog()
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and all(m.string if isinstance(m.string, tuple) else [m.string]) and not m.fuzzy
    }
    missing = sorted(_extracted() - translated)
    assert not missing, f"run `make translations` and translate: {missing}"


def test_compiled_catalog_is_up_to_date():
    with MO.open("rb") as f:
        compiled = read_mo(f)

    def as_map(catalog):
        return {
            (tuple(m.id) if isinstance(m.id, list | tuple) else m.id): (
                tuple(m.string) if isinstance(m.string, list | tuple) else m.string
            )
            for m in catalog
            if m.id
        }

    po, mo = as_map(_catalog()), as_map(compiled)
    assert mo == po, "run `make translations` to recompile messages.mo"


def test_pages_default_to_indonesian_and_follow_the_session_locale(app):
    client = app.test_client()
    assert "Halaman ini tidak ada." in client.get("/nowhere").get_data(as_text=True)
    with client.session_transaction() as s:
        s["locale"] = "en"
    assert "This page does not exist." in client.get("/nowhere").get_data(as_text=True)
