"""Fill the message catalogs from the translations in ``translations/*.txt`` and compile them.

    cd src/hanoi247 && ../../.venv/bin/python locale/fill.py          # makemessages, fill, compile
    ../../.venv/bin/python locale/fill.py --missing > /tmp/todo.txt   # the msgids still to translate

The ``.txt`` files are the translators' source, one block per message (docs/i18n.md)::

    @ Expedited preservation of stored electronic data
    ar الحفظ العاجل للبيانات الإلكترونية المخزنة
    zh 加急保存所存储的电子数据
    fr Conservation rapide de données électroniques stockées
    ru Оперативное обеспечение сохранности хранимых электронных данных
    es Conservación expedita de datos electrónicos almacenados

A message with a plural has ``@@ plural`` after ``@ singular`` and one line per form
(``ar0`` … ``ar5``, ``ru0`` … ``ru2``, ``fr0`` ``fr1``, ``es0`` ``es1``, ``zh0``); a message
with a context starts with ``@context`` before its ``@`` line. ``\\n`` in a line is a newline.
The ``.po`` and ``.mo`` files are written from them: they are never edited by hand.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = LOCALE_DIR.parent
SOURCES = LOCALE_DIR / "translations"

# Catalog directory → the key of its lines in the .txt files.
LANGUAGES = {"ar": "ar", "zh_Hans": "zh", "fr": "fr", "ru": "ru", "es": "es"}
PLURAL_FORMS = {
    "ar": "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);",
    "zh_Hans": "nplurals=1; plural=0;",
    "fr": "nplurals=2; plural=(n > 1);",
    "ru": ("nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"),
    "es": "nplurals=2; plural=(n != 1);",
}
NPLURALS = {"ar": 6, "zh_Hans": 1, "fr": 2, "ru": 3, "es": 2}
LANGUAGE_NAMES = {"ar": "Arabic", "zh_Hans": "Chinese (Simplified)", "fr": "French", "ru": "Russian", "es": "Spanish"}


@dataclass
class Translation:
    msgid: str
    plural: str = ""
    context: str = ""
    lines: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.context, self.msgid)


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n")


def _escape(text: str) -> str:
    return text.replace("\n", "\\n")


def read_sources(directory: Path = SOURCES) -> dict[tuple[str, str], Translation]:
    """Every translation in the ``.txt`` files; a message given twice is an error."""
    found: dict[tuple[str, str], Translation] = {}
    for path in sorted(directory.glob("*.txt")):
        current: Translation | None = None
        context = ""
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            where = f"{path.name}:{number}"
            if line.startswith("@context "):
                context = _unescape(line[len("@context ") :])
            elif line.startswith("@@ "):
                if current is None:
                    raise ValueError(f"{where}: a plural without its singular")
                current.plural = _unescape(line[3:])
            elif line.startswith("@ "):
                current = Translation(_unescape(line[2:]), context=context)
                context = ""
                if current.key in found:
                    raise ValueError(f"{where}: {current.msgid!r} is translated twice")
                found[current.key] = current
            else:
                code, _, text = line.partition(" ")
                if current is None or not text:
                    raise ValueError(f"{where}: expected '@ msgid' or '<language> <translation>'")
                current.lines[code] = _unescape(text)
    return found


def makemessages() -> None:
    """Django's makemessages for the five catalogs, without source locations (which churn)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "--no-location",
            "--no-obsolete",
            "--ignore=locale/*",
            *(f"-l{code}" for code in LANGUAGES),
        ],
        cwd=PACKAGE_DIR,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )


def _forms(entry: Translation, catalog: str) -> list[str] | None:
    key = LANGUAGES[catalog]
    if not entry.plural:
        text = entry.lines.get(key)
        return [text] if text else None
    forms = [entry.lines.get(f"{key}{i}", "") for i in range(NPLURALS[catalog])]
    return forms if all(forms) else None


def fill(po: polib.POFile, catalog: str, sources: dict[tuple[str, str], Translation]) -> list[polib.POEntry]:
    """Put the translations into ``po``; return the entries that have none."""
    po.metadata.update(
        {
            "Project-Id-Version": "Hanoi 24/7",
            "Report-Msgid-Bugs-To": "",
            "Last-Translator": "Hanoi 24/7 translators <i18n@hanoi247.invalid>",
            "Language-Team": LANGUAGE_NAMES[catalog],
            "Language": catalog,
            "MIME-Version": "1.0",
            "Content-Type": "text/plain; charset=UTF-8",
            "Content-Transfer-Encoding": "8bit",
            "Plural-Forms": PLURAL_FORMS[catalog],
        }
    )
    po.metadata.pop("POT-Creation-Date", None)
    po.metadata.pop("PO-Revision-Date", None)
    po.metadata_is_fuzzy = False
    missing = []
    for entry in po:
        source = sources.get((entry.msgctxt or "", entry.msgid))
        forms = _forms(source, catalog) if source is not None else None
        if source is not None and bool(source.plural) != bool(entry.msgid_plural):
            forms = None
        if forms is None:
            missing.append(entry)
            entry.msgstr = ""
            entry.msgstr_plural = {}
            continue
        if entry.msgid_plural:
            entry.msgstr_plural = dict(enumerate(forms))
        else:
            entry.msgstr = forms[0]
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
    return missing


def catalog_path(catalog: str, suffix: str = ".po") -> Path:
    return LOCALE_DIR / catalog / "LC_MESSAGES" / f"django{suffix}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-makemessages", action="store_true", help="fill the catalogs as they are")
    parser.add_argument("--missing", action="store_true", help="print the untranslated msgids as blocks to fill")
    args = parser.parse_args()
    if not args.no_makemessages:
        makemessages()
    sources = read_sources()
    todo: dict[tuple[str, str], polib.POEntry] = {}
    for catalog in LANGUAGES:
        po = polib.pofile(str(catalog_path(catalog)), wrapwidth=0)
        for entry in fill(po, catalog, sources):
            todo.setdefault((entry.msgctxt or "", entry.msgid), entry)
        po.save(str(catalog_path(catalog)))
        po.save_as_mofile(str(catalog_path(catalog, ".mo")))
    if args.missing:
        for (context, msgid), entry in todo.items():
            if context:
                print(f"@context {_escape(context)}")
            print(f"@ {_escape(msgid)}")
            if entry.msgid_plural:
                print(f"@@ {_escape(entry.msgid_plural)}")
            print()
    print(f"{len(todo)} messages without a translation", file=sys.stderr)
    return 1 if todo else 0


if __name__ == "__main__":
    sys.exit(main())
