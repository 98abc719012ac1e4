"""Office intake panels of the staff app (Flet 1.0): keying form, review queue, check-in,
import, export. The staff app (canvass.staff.app) logs in once and opens them by role.

Keyboard first: every field is reached by Tab, Enter saves the line from any field, the next
line number is filled in and the cursor goes back to the first name. In review, D / N / S
decide duplicate / not a duplicate / skip. Network calls run in worker threads.

One module per panel; this package names them for the staff app."""

from canvass.intake.views.checkin import CheckInView
from canvass.intake.views.common import SAVED_STATUSES
from canvass.intake.views.export import ExportView
from canvass.intake.views.imports import ImportView
from canvass.intake.views.keying import KeyingView
from canvass.intake.views.review import ReviewView

__all__ = ["SAVED_STATUSES", "CheckInView", "ExportView", "ImportView", "KeyingView", "ReviewView"]
