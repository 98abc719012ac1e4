"""Files holding secrets or sealed personal data: created readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path


def create_private_file(path: str | os.PathLike) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (an existing file is left as it
    is). Database files are created this way before SQLite opens them, so there is no moment
    in which another user of the machine could read one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def is_private(path: str | os.PathLike) -> bool:
    """No permission bits for the group or others."""
    return os.stat(path).st_mode & 0o077 == 0
