"""The intake panels' state classes against a real server (no browser): the import steps
(mapping guess, changed column, preview errors, job with progress, counts, rejection file) and
the check-in panel (section statuses, what blocks filing, lines to key -> keying form)."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from fake_clock import FakeClock
from intake_helpers import FULL_DECLARATION, Office, intake_server, signer

from canvass.intake.state import (
    DONE,
    MAPPING,
    NO_COLUMN,
    CheckInState,
    ImportState,
    IntakeClient,
    IntakeError,
    KeyingForm,
    line_list,
)
from canvass.staff.downloads import download_link


@pytest.fixture
def office(tmp_path):
    with intake_server(f"sqlite:///{tmp_path / 'server.db'}") as server:
        yield Office(server)


def client(office: Office, who: str = "clerk") -> IntakeClient:
    headers = getattr(office, who)
    return IntakeClient(office.url, token=headers["Authorization"][7:], role="intake")


def sheet(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Sec", "Line #", "Given", "Family", "Residence Address", "Town", "ZIP"])
    writer.writerows(rows)
    return out.getvalue().encode()


ROWS = [["IM1", "1", "Ana", "Ruiz", "101 West Olive Avenue", "Los Angeles", "90012"],
        ["IM1", "2", "Ben", "Cho", "102 West Olive Avenue", "Los Angeles", "9001"],  # bad ZIP
        ["IM1", "3", "Cora", "Diaz", "103 West Olive Avenue", "Los Angeles", "90012"],
        ["", "", "", "", "", "", ""],
        ["IM1", "4", "Dan", "Eze", "104 West Olive Avenue", "Los Angeles", "90012"]]


def test_import_steps_mapping_preview_progress_counts_rejections(office):
    clock = FakeClock(100.0)
    state = ImportState(client(office), clock=clock)
    state.choose("drive.csv", sheet(ROWS))
    # The server's guess: "Sec" and "Given"/"Family" are not known spellings.
    assert state.step == MAPPING and not state.can_import
    assert state.column_of("zip") == "ZIP" and state.column_of("section") == NO_COLUMN
    assert set(state.missing) == {"section", "first_name", "last_name"}
    assert "Section" in state.missing_text()
    with pytest.raises(IntakeError):
        state.start()

    for target, header in (("section", "Sec"), ("first_name", "Given"), ("last_name", "Family")):
        state.set_column(target, header)
    assert state.can_import and state.missing == []
    assert state.shown_fields()[:3] == ["section", "line", "first_name"]
    rows = state.preview_rows()
    assert [r.row for r in rows] == [1, 2, 3, 4, 5]
    assert [bool(r.errors) for r in rows if not r.blank] == [False, True, False, False]
    assert rows[1].errors == ["ZIP: Not a 5-digit ZIP or ZIP+4."]
    assert rows[3].blank and rows[0].cells[:3] == ["IM1", "1", "Ana"]
    assert state.preview_summary() == "The first 5 of 5 rows; 1 of them would be rejected."
    with pytest.raises(ValueError):
        state.set_column("zip", "No such column")

    # Leaving a required field out is refused before the server sees an import.
    state.set_column("city", NO_COLUMN)
    assert state.missing == ["city"] and not state.can_import
    state.set_column("city", "Town")

    state.start()
    while state.step != DONE:
        clock.now += 2
        state.poll()
    clock.now += 100  # the rate stops at the end of the job
    assert state.fraction == 1.0 and state.rows_done == 5 and state.rows_total == 5
    assert state.counts() == {"new": 3, "already_received": 0, "duplicates": 0, "review": 0,
                              "rejected": 1, "blank": 1, "total": 5}
    # Five rows read, one rejected, one blank: three imported, and the summary says so.
    assert state.progress_text().startswith("Read 5 of 5 rows (")
    assert state.finished_text().startswith(
        "Import finished: 3 of 5 rows imported, 1 rejected, 1 blank (")
    assert state.rate() > 0
    assert state.has_rejections
    name = state.rejections_name()
    assert name.startswith("rejections-") and name.endswith(".csv")
    # The file comes through a one-time link, opened without the bearer header (a browser).
    url = download_link(state.client, "rejections", job_id=state.job["job_id"])
    served = httpx.get(office.url + url)
    assert served.headers["content-disposition"] == f'attachment; filename="{name}"'
    rejected = list(csv.reader(io.StringIO(served.text)))
    assert rejected[0][-4:] == ["_row", "_reason_code", "_field", "_reason"]
    assert [(r[0], r[-4], r[-2]) for r in rejected[1:]] == [("IM1", "2", "zip")]

    # The same file again: nothing new, the good rows are already received.
    again = ImportState(client(office), clock=clock)
    again.choose("drive.csv", sheet(ROWS))
    again.mapping.update({"section": "Sec", "first_name": "Given", "last_name": "Family"})
    again.missing = []
    again.start()
    while again.step != DONE:
        again.poll()
    assert again.counts()["already_received"] == 3 and again.counts()["new"] == 0
    assert "Already received: 3" in again.counts_text()


def test_rate_uses_the_clock():
    clock = FakeClock(100.0)
    state = ImportState(IntakeClient("http://127.0.0.1:9"), clock=clock)
    state.started = clock.now
    state._take_job({"job_id": "x", "state": "running", "rows_done": 300, "total_rows": 1200,
                     "counts": {}})
    clock.now += 3
    assert state.rate() == 100 and state.fraction == 0.25
    assert state.progress_text() == "Read 300 of 1200 rows (100 rows/s)"


def test_checkin_panel_statuses_blockers_and_lines_to_key(office):
    names = {1: ("Ines", "Vargas"), 2: ("Tomas", "Ibarra"), 4: ("Keiko", "Mori")}
    office.push(*[signer("C1", n, n=10 * n, first=names[n][0], last=names[n][1]) for n in names])
    office.post("/sections/issue", office.clerk, json={"serials": ["C2"], "handed_out": True})
    state = CheckInState(client(office))
    with pytest.raises(IntakeError):
        state.check_in("C1", "Ann", "five", "", FULL_DECLARATION)
    report = state.check_in("c1", "Ann", "5", "", FULL_DECLARATION[:4])
    assert report["missing_lines"] == [3, 5]
    text = state.report_text()
    assert "Section C1: returned" in text and "key them in): 3, 5" in text
    assert "date and place of signing" in text

    state.load()
    assert not state.ready
    assert state.headline() == "Not ready to file: 3 things still block filing."
    rows = {r.serial: r for r in state.rows()}
    assert rows["C1"].status == "returned" and rows["C1"].to_key == [3, 5]
    assert rows["C1"].blocks == ["lines on paper with no entry: 3, 5",
                                 "the declaration lacks: date and place of signing"]
    assert rows["C2"].status == "out" and rows["C2"].blocks == ["the paper is not back at the office"]
    assert "returned: 1" in state.totals_text() and "out: 1" in state.totals_text()

    # The link to key those lines: the keying form starts at line 3, then goes to line 5.
    form = KeyingForm(client(office))
    form.key_lines("c1", rows["C1"].to_key)
    assert form.values["section"] == "C1" and form.values["line"] == "3"
    form.values.update(first_name="Lena", last_name="Moss", street="300 West Olive Avenue",
                       city="Los Angeles", zip="90012")
    assert form.save().status == "accepted"
    assert form.values["line"] == "5" and form.queue == [5]
    form.values.update(first_name="Omar", last_name="Pike", street="500 West Olive Avenue",
                       city="Los Angeles", zip="90012")
    assert form.save().status == "accepted"
    assert form.queue == [] and form.values["line"] == "6"
    # Line 3 again with another signer: refused, and the line is back in the form as typed.
    other = dict(form.values, line="3", first_name="Ada", last_name="Quill",
                 street="301 West Olive Avenue", city="Los Angeles", zip="90012")
    form.values.update(other)
    refused = form.save()
    assert refused.status not in ("accepted", "already_received", "duplicate", "possible_duplicate")
    assert form.values == other
    state.load()
    c1 = {r.serial: r for r in state.rows()}["C1"]
    assert c1.to_key == [] and c1.status == "reconciled"


def test_line_list():
    assert line_list([9, 3, 4, 5, 7]) == "3-5, 7, 9"
    assert line_list([]) == ""


def test_the_client_says_what_failed_in_fixed_words(office, monkeypatch):
    """Failures reach the panels as IntakeError with the staff words, never a server body:
    no server, no answer in time (the requests session's timeout), an ended session, a role
    that may not, and any other refusal by status and problem code."""
    import socket

    from canvass.intake import state as intake_state

    unreachable = "The server cannot be reached."
    with pytest.raises(IntakeError, match=unreachable) as failed:
        IntakeClient("http://127.0.0.1:9").request("GET", "/v1/review/queue")
    assert failed.value.status == 0
    with socket.create_server(("127.0.0.1", 0)) as silent:  # connects, never answers
        monkeypatch.setattr(intake_state, "TIMEOUT", 0.5)
        port = silent.getsockname()[1]
        with pytest.raises(IntakeError, match=unreachable):
            IntakeClient(f"http://127.0.0.1:{port}", token="t").request("GET", "/v1/review/queue")
    monkeypatch.undo()

    with pytest.raises(IntakeError, match="Your session ended: log in again.") as failed:
        IntakeClient(office.url, token="not-a-session").request("GET", "/v1/review/queue")
    assert failed.value.status == 401
    with pytest.raises(IntakeError, match="Your role may not do this.") as failed:
        client(office).request("GET", "/v1/intake/export/filing.csv")
    assert failed.value.status == 403
    with pytest.raises(IntakeError) as failed:
        client(office).request("GET", "/v1/intake/imports/no-such-job")
    assert str(failed.value) == "The server refused the request (404 not_found)."
    assert failed.value.status == 404
