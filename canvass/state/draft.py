"""The capture form's unsaved text, kept across a lock.

When the lock falls (idle time, the Lock button, another window taking over) the text typed
for a signer not yet saved is sealed in the store as a secret (AES-GCM under the data key, as
the signers are) and the form is dropped; after the next unlock it is put back and the secret
removed. Nothing typed is lost, and nothing of it stays readable while the store is locked.
"""

from __future__ import annotations

import json
from typing import Any

DRAFT_SECRET = "capture_draft"


def keep_draft(store: Any, draft: dict | None) -> None:
    """Seal ``draft`` (``{"section": ..., "values": {...}}``) in the unlocked store."""
    if draft:
        store.set_secret(DRAFT_SECRET, json.dumps(draft))


def take_draft(store: Any) -> dict | None:
    """The kept draft, removed from the store (so it is restored once), or None."""
    raw = store.get_secret(DRAFT_SECRET)
    if not raw:
        return None
    store.set_secret(DRAFT_SECRET, "")
    try:
        draft = json.loads(raw)
    except ValueError:
        return None
    return draft if isinstance(draft, dict) and isinstance(draft.get("values"), dict) else None
