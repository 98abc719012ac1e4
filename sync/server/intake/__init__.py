"""Office intake on the server: the office pseudo-device (office), paper sections and what
reconciliation reads (sections), import jobs (imports), the filing export's duplicate list
and retention (retention). Their routes are sync.server.routes.intake, .imports and
.retention; the rules themselves (reconciliation, import mapping, the export file) are
sync.intake's, shared with nothing of the device."""
