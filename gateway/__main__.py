"""``python -m gateway`` is ``kinvey-gateway``."""

from gateway.cli import main

raise SystemExit(main())
