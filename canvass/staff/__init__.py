"""Staff views (team lead dashboard, staff login), served by the central server at /app and
talking to it over HTTP. Entry: ``canvass.staff.app.staff_main(page)``."""
