"""Training the bundled reader (needs the `train` extra; the app never imports this package)."""
