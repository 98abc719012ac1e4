"""The central Canvass server: FastAPI app, SQLAlchemy models, Alembic migrations, CLI.

Entry points: ``create_app(settings)`` in app.py and ``canvass-server`` in cli.py.
"""
