"""Local demo marketplaces: five fake Thai shops with known ground truth, for the demo, tests and benchmarks.

`generate()` gives the listings, `write_registers()` the matching register files, and
`demo.server.start_shops()` serves the shops on loopback.
"""

from demo.generator import generate, generate_days
from demo.listing import SHOPS, DemoListing
from demo.writer import write_registers

__all__ = ["SHOPS", "DemoListing", "generate", "generate_days", "write_registers"]
