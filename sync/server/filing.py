"""The filing check of a campaign as it stands in the database (sync.intake.filing_check over
intake's reconciliation data): for the filing-check route, the dashboard's blocking count and
the filing export's final/draft marker."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from sync.intake.filing_check import FilingCheck, check_filing
from sync.intake.reconcile import FilingReadiness, reconcile_campaign
from sync.server.intake.sections import check_ins, entry_lines, section_issues
from sync.server.models import Campaign


def readiness_and_check(s: Session, campaign_id: str, *,
                        timezone: str) -> tuple[FilingReadiness, FilingCheck] | None:
    """None when there is no such campaign. ``timezone``: Settings.timezone."""
    campaign = s.get(Campaign, campaign_id)
    if campaign is None:
        return None
    lines, checks = entry_lines(s, campaign_id), check_ins(s, campaign_id)
    readiness = reconcile_campaign(lines, checks, section_issues(s, campaign_id))
    return readiness, check_filing(readiness, lines, checks,
                                   deadline=date.fromisoformat(campaign.deadline),
                                   timezone=timezone)
