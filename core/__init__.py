"""What everything stands on: settings, territory, the warehouse (connection, schema, snapshot), users and roles.

Imports nothing above it (etl, indicators, demo, ui, pages): tests/test_architecture.py."""
