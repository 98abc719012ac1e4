"""Pure intake logic: reconciliation, import conversion, stable ids, rejection file, export."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import Workbook

from sync.domain import SignerEntry
from sync.intake.export import (
    DuplicateLine,
    duplicates_csv,
    export_columns_are_safe,
    filing_csv,
    purge_due,
    summary_csv,
)
from sync.intake.importer import RejectionWriter, RowConverter, RowRejection, stable_entry_id
from sync.intake.mapping import check_mapping, guess_mapping, preset_mapping
from sync.intake.reconcile import (
    DECLARATION_PARTS,
    CheckIn,
    EntryLine,
    SectionIssue,
    SectionStatus,
    parse_line_list,
    reconcile_campaign,
    reconcile_section,
)
from sync.intake.tables import open_table
from sync.protocol import ReasonCode

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
ID_KEY = b"i" * 32  # the server's office-id sub-key in production
FULL = frozenset(DECLARATION_PARTS)


def lines(serial, numbers, status="accepted"):
    return [EntryLine(f"{serial}-{n}-{status}", serial, n, status) for n in numbers]


# ------------------------------------------------------------------------------ reconciliation


def test_missing_and_extra_lines():
    entries = lines("S1", [1, 2, 4, 5, 12])
    check = CheckIn("S1", "Ana", T0, signed_lines=10, declaration=FULL)
    report = reconcile_section("S1", entries, [check])
    assert report.missing_lines == [3, 6, 7, 8, 9, 10]
    assert report.extra_lines == [12]
    assert report.status is SectionStatus.RETURNED
    assert set(report.blockers) == {"missing_lines", "extra_entries"}


def test_skipped_lines_shift_the_paper_lines():
    check = CheckIn("S1", "Ana", T0, signed_lines=3, skipped_lines=frozenset({2}), declaration=FULL)
    assert check.paper_lines() == {1, 3, 4}
    report = reconcile_section("S1", lines("S1", [1, 3, 4]), [check])
    assert report.status is SectionStatus.READY
    assert report.blockers == []


def test_section_returned_twice_uses_latest_and_warns():
    first = CheckIn("S2", "Ana", T0, signed_lines=4, declaration=FULL - {"signature"})
    second = CheckIn("S2", "Ana", T0 + timedelta(days=1), signed_lines=5, declaration=FULL)
    entries = lines("S2", [1, 2, 3, 4, 5])
    # Given out of order: the latest return still wins.
    report = reconcile_section("S2", entries, [second, first])
    assert report.check_ins == 2
    assert report.paper_lines == 5
    assert report.missing_lines == [] and report.extra_lines == []
    assert report.declaration_missing == []
    assert "returned_2_times" in report.warnings and "paper_line_count_changed" in report.warnings
    assert report.status is SectionStatus.READY


def test_declaration_and_review_keep_section_reconciled_not_ready():
    entries = lines("S3", [1, 2]) + lines("S3", [3], "possible_duplicate")
    check = CheckIn("S3", "Bo", T0, signed_lines=3, declaration=FULL - {"date_and_place"})
    report = reconcile_section("S3", entries, [check])
    assert report.status is SectionStatus.RECONCILED
    assert report.declaration_missing == ["date_and_place"]
    assert report.pending_review == [3]
    assert set(report.blockers) == {"declaration_incomplete", "review_pending"}


def test_rejected_and_superseded_entries():
    entries = [
        EntryLine("a", "S4", 1, "accepted"),
        EntryLine("b", "S4", 2, "rejected"),  # line 2 must be keyed again
        EntryLine("c", "S4", 3, "accepted", superseded=True),  # replaced by d
        EntryLine("d", "S4", 3, "duplicate"),
    ]
    report = reconcile_section("S4", entries, [CheckIn("S4", "Cy", T0, 3, declaration=FULL)])
    assert report.rejected_lines == [2]
    assert report.missing_lines == []
    assert report.duplicate_lines == [3]
    assert report.counted_lines == 1
    assert report.status is SectionStatus.RETURNED


def test_statuses_issued_out_and_campaign_blockers():
    readiness = reconcile_campaign(
        entries=lines("B", [1, 2]) + lines("C", [1]),
        check_ins=[CheckIn("C", "Di", T0, 1, declaration=FULL)],
        issues=[SectionIssue("A"), SectionIssue("B", "Ed", handed_out=True), SectionIssue("D", "Fe", True)],
    )
    status = {r.serial: r.status for r in readiness.sections}
    assert status == {"A": SectionStatus.ISSUED, "B": SectionStatus.OUT, "C": SectionStatus.READY,
                      "D": SectionStatus.OUT}
    assert not readiness.ready
    assert {(b["serial"], b["blocker"]) for b in readiness.blockers} == {
        ("A", "not_returned"), ("B", "not_returned"), ("D", "not_returned")}
    assert readiness.totals["ready_to_file"] == 1 and readiness.totals["sections"] == 4
    only_c = reconcile_campaign(lines("C", [1]), [CheckIn("C", "Di", T0, 1, declaration=FULL)])
    assert only_c.ready


def test_parse_line_list():
    assert parse_line_list("3, 7-9;12") == {3, 7, 8, 9, 12}
    assert parse_line_list("") == frozenset()
    with pytest.raises(ValueError):
        parse_line_list("9-3")


# ------------------------------------------------------------------------------ import

HEADERS = ["Section #", "Line #", "First Name", "Last Name", "Residence Address", "Apt", "City",
           "ZIP", "Phone"]


def good_row(section="A100", line=1, first="Maria", last="Lopez"):
    return [section, str(line), first, last, "123 Main St", "", "Los Angeles", "90012", ""]


def converter(mapping):
    return RowConverter(mapping, campaign_id="camp-1", id_key=ID_KEY, default_captured_at=T0,
                        device_id="office")


def test_guess_mapping_and_preset():
    mapping = guess_mapping(HEADERS)
    assert mapping == {"section": 0, "line": 1, "first_name": 2, "last_name": 3, "street": 4,
                       "unit": 5, "city": 6, "zip": 7, "phone": 8}
    assert check_mapping(mapping) == []
    assert check_mapping({"section": 0}) == ["line", "first_name", "last_name", "street", "city",
                                             "zip"]
    assert preset_mapping("volunteer_sheet", HEADERS)["street"] == 4


def test_row_conversion_and_stable_ids():
    conv = converter(guess_mapping(HEADERS))
    entry = conv.convert(1, good_row())
    assert isinstance(entry, SignerEntry)
    assert entry.section == "A100" and entry.line == 1 and entry.captured_at == T0
    again = conv.convert(57, [" a100 ", "1.0", "maria ", "LOPEZ", "123  Main St", "", "Los Angeles",
                              "90012", ""])
    assert isinstance(again, SignerEntry)
    # Same meaning, other spelling and row number: the same id.
    assert again.entry_id == entry.entry_id
    other = conv.convert(2, good_row(line=2))
    assert other.entry_id != entry.entry_id
    assert stable_entry_id(ID_KEY, "camp-1", "A100", 1, entry.personal()) == entry.entry_id
    assert stable_entry_id(ID_KEY, "camp-2", "A100", 1, entry.personal()) != entry.entry_id
    # Keyed: the same row under another server's key is another id (a stolen database cannot
    # recompute ids from guessed signers), and it is a valid UUID (version 8).
    assert stable_entry_id(b"x" * 32, "camp-1", "A100", 1, entry.personal()) != entry.entry_id
    assert uuid.UUID(entry.entry_id).version == 8


def test_row_rejections_name_field_and_code():
    conv = converter(guess_mapping(HEADERS))
    bad_zip = conv.convert(3, good_row()[:7] + ["ABCDE", ""])
    assert isinstance(bad_zip, RowRejection)
    assert bad_zip.first == (int(ReasonCode.INVALID_ZIP), "zip", bad_zip.first[2])
    bad_line = conv.convert(4, ["A100", "x", "", "Lopez", "123 Main St", "", "LA", "90012", ""])
    assert isinstance(bad_line, RowRejection)
    assert [r[1] for r in bad_line.reasons] == ["line", "first_name"]


def test_open_table_csv_and_xlsx(tmp_path):
    csv_path = tmp_path / "rows.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(HEADERS)
        w.writerow(good_row(first="José"))
        w.writerow(good_row(line=2))
    table = open_table(csv_path)
    assert table.headers == HEADERS and table.total_rows == 2 and table.kind == "csv"
    rows = list(table.rows)
    assert rows[0][2] == "José"

    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    ws.append(["A100", 1, "Maria", "Lopez", "123 Main St", None, "Los Angeles", 90012, None])
    xlsx_path = tmp_path / "rows.xlsx"
    wb.save(xlsx_path)
    table = open_table(xlsx_path)
    assert table.kind == "xlsx" and table.headers == HEADERS
    row = next(table.rows)
    assert row[1] == "1" and row[7] == "90012" and row[5] == ""
    assert isinstance(converter(guess_mapping(table.headers)).convert(1, row), SignerEntry)


def test_rejection_file_keeps_original_cells():
    writer = RejectionWriter(HEADERS)
    writer.add_rejection(RowRejection(7, good_row(), [(102, "zip", "bad"), (106, "city", "x")]))
    rows = list(csv.reader(io.StringIO(writer.getvalue())))
    assert rows[0][-4:] == ["_row", "_reason_code", "_field", "_reason"]
    assert rows[1][: len(HEADERS)] == good_row()
    assert rows[1][-4:] == ["7", "102", "zip", "bad (+1 more)"]


# ------------------------------------------------------------------------------ export


def test_filing_export_has_counts_and_no_personal_columns():
    readiness = reconcile_campaign(lines("A", [1, 2, 3]) + lines("A", [4], "duplicate"),
                                   [CheckIn("A", "Ana", T0, 4, declaration=FULL)])
    text = summary_csv(readiness)
    rows = list(csv.reader(io.StringIO(text)))
    assert export_columns_are_safe(rows[0])
    assert rows[1][:7] == ["A", "ready_to_file", "", "4", "4", "3", "1"]
    assert rows[-1][0] == "TOTAL" and rows[-1][1] == "ready_to_file"
    dups = duplicates_csv([DuplicateLine("A", 4, "duplicate", "e4", "e1", "A", 1)])
    assert list(csv.reader(io.StringIO(dups)))[1] == ["A", "4", "duplicate", "A", "1", "e4", "e1"]
    assert "duplicate_of_section" in filing_csv(readiness, [])


def test_retention():
    deadline = date(2026, 6, 1)
    assert not purge_due(datetime(2026, 6, 5, tzinfo=UTC), None, deadline, 30)
    assert purge_due(datetime(2026, 7, 1, tzinfo=UTC), None, deadline, 30)
    assert purge_due(datetime(2026, 5, 11, tzinfo=UTC), date(2026, 5, 1), deadline, 10)
