"""Voter files on the server (what is stored and when entries are matched: see the modules)."""
