import sys

from indicators.cli import main
from indicators.reports import cli as _report_cli  # noqa: F401  (registers the `report` subcommand)

sys.exit(main())
