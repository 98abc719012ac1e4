"""Registration check against a county voter file (issue 8).

Pure, database-free logic shared by the server and the device:

- ``columns``: column presets of voter files and ``--map`` parsing.
- ``reader``: a streaming CSV reader with a progress callback (no full load into memory).
- ``keys``: the registration keys (HMAC under a sub-key of the campaign index key).
- ``regindex``: the compact device index (sorted, bucketed truncated fingerprints), its file
  format, deltas and its stated false-positive rate.
- ``matcher``: one signer entry -> ``protocol.RegistrationMatch`` (exact keys + sync.scoring).
- ``synthetic``: generated voter files and petition entries with ground truth (tests, benchmark).
"""
