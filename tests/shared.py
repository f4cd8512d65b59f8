"""Where ../shared (other projects' corpora, the DCAT shapes, the seed pages) is, if anywhere.

`REGIOFEED_SHARED` names it; by default it sits beside the repository. Tests that need it skip,
saying so, where it is absent: the product never needs it.
"""

import os
from pathlib import Path

SHARED = Path(os.environ.get("REGIOFEED_SHARED")
              or Path(__file__).resolve().parents[2] / "shared")
