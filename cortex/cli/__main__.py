"""`python -m cortex.cli`: the `cortex` command."""

import sys

from cortex.cli import main

sys.exit(main())
