"""The review queue: possible duplicates, one at a time, decided or skipped; undo of the
last decision."""

from __future__ import annotations

from dataclasses import dataclass, field

from canvass.intake.state.client import IntakeClient
from canvass.intake.state.labels import SIGNER_FIELDS

COMPARED_FIELDS = SIGNER_FIELDS


def _norm(text: str) -> str:
    return " ".join((text or "").casefold().split())


@dataclass
class ReviewState:
    client: IntakeClient
    items: list[dict] = field(default_factory=list)
    index: int = 0
    decided: int = 0
    last: str = ""
    undoable: str = ""  # the entry of this tab's last decision, while it may be undone

    def load(self) -> None:
        self.items = self.client.request("GET", "/v1/review/queue").json()["items"]
        self.index = 0

    @property
    def current(self) -> dict | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def differences(self) -> list[str]:
        item = self.current
        if not item or not item.get("candidate"):
            return []
        a, b = item["entry"]["fields"], item["candidate"]["fields"]
        return [f for f in COMPARED_FIELDS if _norm(a.get(f, "")) != _norm(b.get(f, ""))]

    def decide(self, decision: str) -> str:
        """duplicate / not_duplicate are sent; skip moves on and leaves the item queued."""
        item = self.current
        if item is None:
            return ""
        if decision == "skip":
            self.items.append(self.items.pop(self.index))
            self.last = "skipped"
            if self.index >= len(self.items):
                self.index = 0
            return self.last
        entry_id = item["entry"]["entry_id"]
        r = self.client.request("POST", f"/v1/review/{entry_id}/decision",
                                json={"decision": decision})
        self.items.pop(self.index)
        if self.index >= len(self.items):
            self.index = 0
        self.decided += 1
        self.last = r.json()["status"]
        self.undoable = entry_id
        return self.last

    def undo(self) -> str:
        """Take back this staff member's last decision (the server keeps the window and the
        audit); the entry is first in the queue again. Its entry id."""
        entry_id = self.client.request("POST", "/v1/review/undo").json()["entry_id"]
        self.undoable = ""
        self.decided = max(0, self.decided - 1)
        self.last = "undone"
        self.load()
        ids = [item["entry"]["entry_id"] for item in self.items]
        self.index = ids.index(entry_id) if entry_id in ids else 0
        return entry_id

