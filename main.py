"""TicketPilot entry point: ``python main.py serve | migrate | playbooks validate [PATH] | classify | replay``."""

import sys

from ticketpilot.cli import main

if __name__ == "__main__":
    sys.exit(main())
