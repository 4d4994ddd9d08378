"""`python -m demo`: serve the demo shops in the foreground (see `python -m demo --help`)."""

from demo.server import main

main()
