"""Files only the app's own account may read: the SQLite database, backups (password hashes, session
and token digests) and uploads. Created 0600 in folders 0700, whatever the process umask."""
import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dirs(path) -> Path:
    """``path`` and any missing parents created 0700 (``mkdir(parents=True)`` ignores the mode for parents)."""
    path = Path(path)
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            try:
                folder.mkdir(mode=PRIVATE_DIR)
            except FileExistsError:
                pass
            os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is masked by the umask
    return path


def open_private(path, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC):
    """A binary file object on ``path`` created 0600 (an existing file keeps its owner, loses group and others)."""
    descriptor = os.open(path, flags, PRIVATE_FILE)
    os.fchmod(descriptor, PRIVATE_FILE)
    return os.fdopen(descriptor, "wb")


def make_private(path, mode=PRIVATE_FILE):
    """An existing file (or, with PRIVATE_DIR, folder) of ours reduced to ``mode``; another account's is left alone."""
    path = Path(path)
    if path.exists() and path.stat().st_uid == os.geteuid():
        os.chmod(path, mode)
