"""`python -m qa_reader`: the same as the `qa-reader` command."""

import sys

from qa_reader.cli import main

sys.exit(main())
