"""Where things are: the repository, and the cache that holds everything
large (trees, builds, guest images, RAM files, results).  The shell side
(scripts/lib.sh) reads the same LASTBOOT_CACHE variable."""

import os

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("LASTBOOT_CACHE", os.path.expanduser("~/.cache/lastboot"))
RESULTS = os.path.join(CACHE, "results")
RUNS = os.path.join(CACHE, "run")
