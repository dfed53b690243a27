"""Keeping the records safe: backups and restore, checks, the audit trail, erasure."""
