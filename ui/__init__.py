"""The dashboard's shell: session and roles, menu and router, the snapshot and shared widgets (not screens)."""
