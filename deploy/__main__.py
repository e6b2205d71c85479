"""python -m deploy: the rno-export command (deploy.cli)."""
from .cli import main

raise SystemExit(main())
