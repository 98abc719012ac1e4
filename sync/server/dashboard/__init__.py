"""The team lead dashboard's queries: SQL aggregation over the server's tables (SQLite and
PostgreSQL). Modules: common (campaign settings, time grains, snapshot), rollup (the rollup
of settled entries), figures (what the dashboard shows), buckets (SQLite's folding in
Python), postgres (PostgreSQL's grouped statements), views (the answers of the dashboard
routes, sync.server.routes.dashboard). The names callers use are re-exported here.

Every query groups in the database; Python sees one row per device, per day, per
(device, 5-minute slot) of recent entries, never one per entry. No personal field is ever read.

Teams: a device's team is ``Device.team``, copied from its enrollment code
(``canvass-server enroll-code --team T``). A team lead sees the devices of their own team(s)
(``User.team``, several separated by commas); an admin sees all. Drive progress is the
campaign's, for everyone who may see the dashboard (aggregate figures, no personal data).

Entries counted: every stored entry not superseded by a correction (conflicts are never
stored). Raw = those; unique signers = ``counted``; duplicates = status ``duplicate``;
rejected = status ``rejected``; outside jurisdiction = rejected with reason 103. Days and
"today" are campaign-local dates of ``captured_at`` (Settings.timezone: America/Los_Angeles,
or the CANVASS_TIMEZONE environment variable).

Speed (1,000,000 entries, docs/BENCHMARKS.md "Dashboard queries"): a rollup the dashboard keeps
itself, never ingest. ``refresh_rollup`` folds *settled* entries -- received more than
``SETTLE_SECONDS`` ago -- into ``dashboard_rollup`` (per device and local day: counts, the
10-minute window counts behind the burst flag, the last arrival) and ``dashboard_sections``;
the queries read the rollup and add the entries received since, grouped live. A settled
entry's figures change only through (a) a correction, which arrives as a new entry naming it
in ``supersedes``, and (b) a review decision or a registration re-match, which writes the
outcomes feed in the same transaction; each refresh recomputes the (device, day) buckets those
touch, so the figures are exactly those of a full scan. Assumed: ``received_at`` is the
server's clock at arrival and the arriving transaction commits within ``SETTLE_SECONDS``.
Without a rollup (never refreshed, or the time zone changed) the queries scan everything.
Days are exact for any UTC offset that is a whole multiple of 5 minutes (all of them today);
the 10-minute windows never straddle a local midnight when the offset is a multiple of 10.
"""

from sync.server.dashboard.common import (
    SETTLE_SECONDS,
    CampaignInfo,
    campaign_info,
    first_campaign_id,
    settled_before,
    snapshot,
)
from sync.server.dashboard.figures import (
    DeviceRef,
    DriveTotals,
    circulator_activity,
    device_stats,
    devices_in_scope,
    drive_totals,
)
from sync.server.dashboard.rollup import refresh_rollup, rollup_is_current

__all__ = [
    "SETTLE_SECONDS", "CampaignInfo", "DeviceRef", "DriveTotals",
    "campaign_info", "circulator_activity", "device_stats", "devices_in_scope", "drive_totals",
    "first_campaign_id", "refresh_rollup", "rollup_is_current", "settled_before", "snapshot",
]
