"""Voter files on the server: what is stored and how it is read (store), how a voter record
is sealed (sealing), importing a file as a new generation (importer), the voter candidates of
an entry (candidates), and each entry's registration match (registrations). The tables are
sync.server.models.voters; the device's index route is sync.server.routes.registration; the
matching rules themselves are sync.voters (shared with the device)."""
