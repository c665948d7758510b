"""Translation catalogue chores: ``update`` (extract + merge), ``missing`` (list untranslated),
``fill FILE.tsv`` (set translations: one ``msgid<TAB>msgstr`` a line, ``\\n`` for new lines),
``compile`` (write the .mo files). Run through ``make i18n`` targets; several people filling at
once are serialised by a lock file."""
import fcntl
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "campaign" / "translations"
TEMPLATE = CATALOGUES / "messages.pot"
ZH_PO = CATALOGUES / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


@contextmanager
def locked():
    with open(ROOT / ".i18n.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def update():
    subprocess.run([*PYBABEL, "extract", "-F", "babel.cfg", "-k", "_l", "--no-location",
                    "--sort-output", "-o", str(TEMPLATE), "."], cwd=ROOT, check=True)
    for locale in ("zh_Hans_CN", "en"):
        po = CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
        command = "update" if po.exists() else "init"
        subprocess.run([*PYBABEL, command, "-i", str(TEMPLATE), "-d", str(CATALOGUES), "-l", locale,
                        *(["--no-fuzzy-matching", "--ignore-obsolete"] if command == "update" else [])],
                       cwd=ROOT, check=True)


def missing() -> list[str]:
    with open(ZH_PO, "rb") as handle:
        catalog = read_po(handle)
    return [m.id if isinstance(m.id, str) else m.id[0] for m in catalog
            if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)]


def fill(tsv_path: str):
    with open(ZH_PO, "rb") as handle:
        catalog = read_po(handle)
    count = 0
    for line in Path(tsv_path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or "\t" not in line:
            continue
        msgid, msgstr = (part.replace("\\n", "\n") for part in line.split("\t", 1))
        message = catalog.get(msgid)
        if message is None:
            print(f"not in catalogue (run update first?): {msgid!r}", file=sys.stderr)
            continue
        message.string = msgstr
        message.flags.discard("fuzzy")
        count += 1
    with open(ZH_PO, "wb") as handle:
        write_po(handle, catalog, width=0, sort_output=True)
    print(f"{count} translations set")


def compile_catalogues():
    subprocess.run([*PYBABEL, "compile", "-d", str(CATALOGUES)], cwd=ROOT, check=True)


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "update"
    with locked():
        if action == "update":
            update()
        elif action == "missing":
            print("\n".join(missing()))
        elif action == "fill":
            fill(sys.argv[2])
        elif action == "compile":
            compile_catalogues()
        else:
            sys.exit(__doc__)
