"""Team sync: export, validation of teammates' files, merge, transport (imports store only)."""
