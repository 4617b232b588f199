"""QA Reader: ask questions of your documents and see the answer highlighted on the page, offline."""

import os

# onnxruntime (1.32 at least) starts a telemetry thread about 9 s after a model loads: DNS lookups of an
# events host, then HTTPS. `onnxruntime.disable_telemetry_events()` does not stop it; this variable, set
# before onnxruntime is loaded, does. This module runs before any submodule, so nothing can import
# onnxruntime earlier. tests/test_no_network.py proves it under strace.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"
