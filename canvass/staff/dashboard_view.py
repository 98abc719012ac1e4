"""The team lead dashboard view. Built once; each refresh changes the values of the existing
controls (and replaces the table rows), so the screen never blanks between refreshes.

Layout: a ResponsiveRow of figure cards (two per row on a tablet, four on a laptop), the
progress chart, the registrar simulation, the device table (scrolls sideways on narrow
screens) with team filter, sort and circulator search, and the quality notes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import flet as ft
import flet_charts as fch

from canvass.staff.dashboard_state import SORTS, DashboardState
from canvass.staff.text import tr

STALE_BG = ft.Colors.AMBER_100
CARD_COLS = {"xs": 12, "sm": 6, "lg": 3}
# Team filter keys: one for every team in view, and "team:" + the team's name, so a device of
# no team ("") has an option of its own, never a second "" beside "All teams".
ALL_TEAMS = "all"
TEAM_KEY = "team:"


def team_options(teams: list[str]) -> list[ft.DropdownOption]:
    return [ft.DropdownOption(key=ALL_TEAMS, text=tr("devices.all_teams"))] + [
        ft.DropdownOption(key=TEAM_KEY + t, text=t or tr("devices.no_team")) for t in teams]


def team_of(key: str | None) -> str | None:
    """The team a filter key stands for; None for every team."""
    return key[len(TEAM_KEY):] if key and key.startswith(TEAM_KEY) else None


def _when(iso: str | None) -> str:
    if not iso:
        return tr("dash.never")
    moment = datetime.fromisoformat(iso).astimezone()
    return moment.strftime("%b %d %H:%M")


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


class Figure(ft.Container):
    def __init__(self, title: str) -> None:
        self.title = title
        self.value = ft.Text("-", size=24, weight=ft.FontWeight.BOLD)
        self.note = ft.Text("", size=12, color=ft.Colors.GREY_700)
        super().__init__(content=ft.Column([ft.Text(title, size=13), self.value, self.note],
                                           spacing=2),
                         padding=12, border_radius=8, bgcolor=ft.Colors.BLUE_GREY_50,
                         col=CARD_COLS)

    def set(self, value: str, note: str = "") -> None:
        self.value.value, self.note.value = value, note
        self.value.semantics_label = f"{self.title}: {value}"


class DashboardView(ft.Column):
    def __init__(self, state: DashboardState, on_export: Callable[[], None],
                 on_logout: Callable[[], None] | None = None) -> None:
        self.state = state
        self.computed = ft.Text(tr("dash.loading"), size=12, color=ft.Colors.GREY_700)
        self.error = ft.Text("", color=ft.Colors.RED_800)
        self.notice = ft.Text("", size=14)  # what the export did ("Your browser is downloading")
        self.scope = ft.Text("", size=14, weight=ft.FontWeight.BOLD)
        # What blocks filing (the drive's count, /v1/dashboard/filing): in the header row, so
        # the figures and the chart below stay where they are.
        self.filing = ft.Text("", size=14, weight=ft.FontWeight.BOLD)
        self.cards = {k: Figure(tr(f"card.{k}")) for k in (
            "raw", "unique", "valid", "goal", "days", "pace", "actual", "stale")}
        self.chart = fch.LineChart(
            data_series=[], min_y=0, height=260, interactive=False,
            # No label at the top edge: it would sit on the goal's label (max_y = goal x 1.1).
            left_axis=fch.ChartAxis(label_size=56, show_max=False),
            # One label a day at most (x is the day's index): never "0.1 0.2" between days.
            bottom_axis=fch.ChartAxis(label_size=28, label_spacing=1),
            horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.GREY_300, width=1),
        )
        self.chart_box = ft.Semantics(
            label=tr("chart.label"),
            # Room on the right for the last date, which is centred on the chart's edge.
            content=ft.Container(self.chart, padding=ft.Padding.only(left=8, top=8, right=32,
                                                                      bottom=8)))
        self.chart_note = ft.Text("", size=12)
        self.sim_text = ft.Text("")
        self.sim_bars = ft.Column(spacing=4)
        self.team = ft.Dropdown(label=tr("devices.team"), width=200, value=ALL_TEAMS,
                                options=team_options([]), on_select=self._changed)
        # The dropdown's own button has no accessible name: a label that says the team in view.
        self.team_box = ft.Semantics(content=self.team)
        self._label_team()
        self.sort = ft.Dropdown(label=tr("devices.sort"), width=240, value=state.sort,
                                options=[ft.DropdownOption(key=k, text=tr(f"sort.{k}"))
                                         for k in SORTS],
                                on_select=self._changed)
        self.search = ft.TextField(label=tr("devices.search"), width=240,
                                   on_change=self._changed)
        self.table = ft.DataTable(columns=[
            ft.DataColumn(label=ft.Text(tr(f"col.{k}")), numeric=n) for k, n in (
                ("team", False), ("circulator", False), ("device", False), ("last_sync", False),
                ("last_heartbeat", False), ("pending", True), ("today", True), ("total", True),
                ("duplicates", True), ("rejected", True), ("open_sections", True))],
            rows=[], column_spacing=18, heading_row_height=40)
        self.flags = ft.Column(spacing=6)
        header = ft.Row([
            ft.Text(tr("dash.title"), size=24, weight=ft.FontWeight.BOLD),
            ft.Button(content=tr("dash.refresh"), on_click=lambda e: self._refresh_now()),
            ft.Button(content=tr("dash.export"), on_click=lambda e: on_export()),
        ] + ([ft.Button(content=tr("logout"), on_click=lambda e: on_logout())] if on_logout else [])
            + [self.filing], wrap=True)
        self._refresh_callback: Callable[[], None] | None = None
        super().__init__(controls=[
            header, self.notice, self.computed, self.error, self.scope,
            ft.ResponsiveRow(list(self.cards.values()), spacing=10, run_spacing=10),
            ft.Text(tr("progress"), size=18, weight=ft.FontWeight.BOLD), self.chart_note,
            self.chart_box,
            ft.Text(tr("sim.title"), size=18, weight=ft.FontWeight.BOLD),
            self.sim_text, self.sim_bars,
            ft.Text(tr("devices.title"), size=18, weight=ft.FontWeight.BOLD),
            ft.Row([self.team_box, self.sort, self.search], wrap=True),
            ft.Row([self.table], scroll=ft.ScrollMode.AUTO),
            ft.Text(tr("quality.title"), size=18, weight=ft.FontWeight.BOLD),
            ft.Text(tr("quality.intro"), size=12),
            self.flags,
        ], spacing=12, scroll=ft.ScrollMode.AUTO, expand=True)

    def show_notice(self, text: str) -> None:
        self.notice.value = text
        self.notice.semantics_label = text
        self.update()

    def on_refresh(self, callback: Callable[[], None]) -> None:
        self._refresh_callback = callback

    def _refresh_now(self) -> None:
        if self._refresh_callback:
            self._refresh_callback()

    def _label_team(self) -> None:
        shown = next((o.text for o in self.team.options if o.key == self.team.value), "")
        self.team_box.label = tr("devices.team_filter", team=shown)

    def _changed(self, _e=None) -> None:
        self.state.team = team_of(self.team.value)
        self._label_team()
        self.state.sort = self.sort.value or "team"
        self.state.search = self.search.value or ""
        self._fill_table()
        self.update()

    # ---- filling from the state -------------------------------------------------------
    def show(self) -> None:
        """Copy the state's figures into the controls (call page.update() after)."""
        s = self.state
        self.error.value = s.error
        if not s.devices:
            return
        self.computed.value = tr("dash.computed", when=_when(s.computed_at))
        teams = (s.progress.get("scope") or {}).get("teams")
        # Every figure below is of this scope (the API scopes a team lead's to their teams).
        self.scope.value = tr("dash.scope_drive") if teams is None else tr(
            "dash.scope_teams", teams=", ".join(t or tr("devices.no_team") for t in teams))
        p = s.progress.get("progress", {})
        if p:
            dups = p["duplicates"]
            rejected = f"{p['rejected']:,}"
            self.cards["raw"].set(f"{p['raw_entries']:,}", tr("note.raw_one", rejected=rejected)
                                  if dups == 1 else
                                  tr("note.raw", duplicates=f"{dups:,}", rejected=rejected))
            self.cards["unique"].set(f"{p['unique_signers']:,}", tr("note.unique"))
            self.cards["valid"].set(f"{p['projected_valid']:,}",
                                    tr("note.valid", rate=_pct(p["effective_validity_rate"])))
            self.cards["goal"].set(f"{p['goal']:,}", tr("note.goal", deadline=p["deadline"]))
            self.cards["days"].set(str(p["days_left"]),
                                   tr("note.days", remaining=f"{p['remaining']:,}"))
            self.cards["pace"].set(f"{p['pace_needed_per_day']:,}", tr("note.pace"))
            self.cards["actual"].set(f"{p['pace_actual_7d']:,}",
                                     tr("note.on_pace" if p["on_pace"] else "note.behind"))
            self._fill_chart(p)
        self.cards["stale"].set(str(s.devices.get("stale_count", 0)), tr(
            "note.stale", minutes=s.devices["campaign"]["stale_after_minutes"]))
        f = s.filing.get("filing")
        if f:
            self.filing.value = tr("dash.filing_ready") if f["ready"] else tr(
                "dash.filing_blocked", count=f"{f['blocking']:,}")
            self.filing.color = ft.Colors.GREEN_800 if f["ready"] else ft.Colors.RED_800
        self._fill_simulation()
        options = team_options(s.teams)
        if [o.key for o in options] != [o.key for o in self.team.options]:
            self.team.options = options
            if self.team.value not in {o.key for o in options}:
                self.team.value, self.state.team = ALL_TEAMS, None
            self._label_team()
        self._fill_table()
        self._fill_flags()

    def _fill_chart(self, p: dict) -> None:
        series = p.get("series", [])
        goal = p["goal"]
        empty = not series
        if empty:  # a new campaign: a line at 0 from today, not an axis without days
            series = [[p["today"], 0]]
        points = [fch.LineChartDataPoint(i, v, tooltip=f"{d}: {v:,}")
                  for i, (d, v) in enumerate(series)]
        last_x = max(1, len(series) - 1)
        self.chart.data_series = [
            fch.LineChartData(points=points, color=ft.Colors.BLUE_700, stroke_width=3),
            fch.LineChartData(points=[fch.LineChartDataPoint(0, goal),
                                      fch.LineChartDataPoint(last_x, goal)],
                              color=ft.Colors.RED_400, stroke_width=2, dash_pattern=[6, 4]),
        ]
        self.chart.max_y = max(goal, *(v for _, v in series), 1) * 1.1
        self.chart.min_x, self.chart.max_x = 0, last_x
        step = max(1, len(series) // 6)
        self.chart.bottom_axis.labels = [
            fch.ChartAxisLabel(value=i, label=ft.Text(d[5:], size=10))
            for i, (d, _) in enumerate(series) if i % step == 0]
        self.chart_note.value = tr("chart.empty" if empty else "chart.note", first=series[0][0],
                                   goal=f"{goal:,}")

    def _fill_simulation(self) -> None:
        sim = self.state.simulation.get("simulation")
        if not sim:
            return
        ch = sim["chances"]
        more = sim["more_raw_for_95"]
        if more == 0:
            need = tr("sim.need_none")
        elif more is None:
            need = tr("sim.need_never")
        else:
            need = tr("sim.need_more", more=f"{more:,}")
        self.sim_text.value = tr(
            "sim.text", sample=f"{sim['sample']:,}", trials=f"{sim['trials']:,}", seed=sim["seed"],
            certified=_pct(ch["certified"]), full_count=_pct(ch["full_count"]),
            failed=_pct(ch["failed"]), need=need)
        self.sim_bars.controls = [
            ft.Row([ft.Text(tr(f"sim.{key}"), width=130),
                    ft.ProgressBar(value=ch[key], width=240, color=col), ft.Text(_pct(ch[key]))])
            for key, col in (("certified", ft.Colors.GREEN_600),
                             ("full_count", ft.Colors.AMBER_700), ("failed", ft.Colors.RED_600))]

    def _fill_table(self) -> None:
        rows = []
        for r in self.state.visible_rows():
            stale = r["stale"]
            sync_text = _when(r["last_sync"]) + (f" - {tr('devices.stale')}" if stale else "")
            cells = [r["team"] or "-", r["circulator"], r["device_name"], sync_text,
                     _when(r["last_heartbeat"]), str(r["pending_reported"]),
                     str(r["entries_today"]), str(r["entries_total"]),
                     _pct(r["duplicate_rate"]), _pct(r["rejection_rate"]), str(r["open_sections"])]
            controls = [ft.Text(c) for c in cells]
            if stale:
                controls[3] = ft.Text(sync_text, weight=ft.FontWeight.BOLD,
                                      color=ft.Colors.RED_900,
                                      semantics_label=tr("devices.stale_label",
                                                         circulator=r["circulator"]))
            rows.append(ft.DataRow(cells=[ft.DataCell(c) for c in controls],
                                   color=STALE_BG if stale else None))
        self.table.rows = rows

    def _fill_flags(self) -> None:
        flags = self.state.quality.get("flags", [])
        if not flags:
            self.flags.controls = [ft.Text(tr("quality.nothing"))]
            return
        self.flags.controls = [
            ft.Text(f"{f['circulator']} ({f['team'] or tr('quality.no_team')}): {f['text']}")
            for f in flags]
