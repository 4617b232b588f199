"""The desktop app (PySide6): the only package that imports Qt. `app.run_app` is the entry point."""
