"""What the frozen app holds: bundled files, modules added and left out, the Qt plugins kept.

One place for qa-reader.spec (PyInstaller), the build scripts and tests/packaging to agree on. Standard library
only, because it runs in the build environment, in the test environment and as `python contents.py check`.
"""

from __future__ import annotations

import ast
import fnmatch
import sys
import tomllib
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent

APP_NAME = "QA Reader"
EXECUTABLE = "qa-reader"
# Reverse-DNS name for macOS; change it to a domain you own before signing and notarising.
BUNDLE_IDENTIFIER = "org.qa-reader.QAReader"

MODEL_FILES = ("model.onnx", "tokenizer.json", "manifest.json")
RESOURCE_FILES = ("qa-reader.svg", "sample/welcome.md", "sample/selftest.json")

# Document types the desktop entry, Info.plist and the Windows installer associate with the app.
DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".epub": "application/epub+zip",
}

# Modules the app never needs that PyInstaller would follow into through the build environment or optional
# imports: the training stack, the batch's Ray pipeline and Parquet (the scale extra), test tools, pymupdf's
# LLM and layout helpers (pymupdf carries on without pymupdf4llm), diagnostics only (numpy's yaml,
# onnxruntime's psutil), and the Qt modules beside the four the GUI uses (QtCore, QtGui, QtWidgets, QtNetwork).
EXCLUDED_MODULES = (
    "qa_reader.training",
    "qa_reader.batch.cluster",
    "qa_reader.reader.twin",  # bench's fp32 twin (needs onnx): a developer's measurement, not the app's
    "ray",
    "pyarrow",
    "torch",
    "transformers",
    "safetensors",
    "onnx",
    "matplotlib",
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "ruff",
    "importlinter",
    "tkinter",
    "IPython",
    "pip",
    "setuptools",
    "pymupdf4llm",
    "pymupdf.layout",
    "yaml",
    "psutil",
    "onnxruntime.quantization",
    "onnxruntime.tools",
    "onnxruntime.transformers",
    "onnxruntime.datasets",
    "onnxruntime.backend",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuickWidgets",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtPrintSupport",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtXml",
    "PySide6.QtDBus",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtConcurrent",
    "PySide6.QtSvgWidgets",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
)

# Qt plugins kept, by plugin folder: a plugin stays when its file name contains one of the words.
# Platforms: X11 (xcb), Wayland, headless (offscreen, for the self-test and CI), Windows and macOS.
QT_PLUGINS = {
    "platforms": ("qxcb", "qoffscreen", "qwayland", "qwindows", "qcocoa"),
    "platformthemes": ("xdgdesktopportal",),
    "platforminputcontexts": ("compose", "ibus"),
    "xcbglintegrations": ("xcb",),
    "wayland-shell-integration": ("xdg-shell",),
    "wayland-decoration-client": ("bradient", "adwaita"),
    "wayland-graphics-integration-client": ("wayland-egl",),
    "imageformats": ("qsvg", "qjpeg"),
    "iconengines": ("qsvgicon",),
    "styles": ("windows", "mac"),
}

# Linux libraries left to the system, which the .deb's Depends provide: the C++ runtime (Mesa's GL drivers
# load into the process and need the system's, never an older bundled one), the compression libraries the
# system's own libraries link to, and the desktop stack (X11, xcb, Wayland, fonts, GLib, D-Bus) that must
# match the running session. PyInstaller already leaves out libc and GL.
SYSTEM_LIBRARIES = (
    "libstdc++.so.*",
    "libgcc_s.so.*",
    "libz.so.*",
    "liblzma.so.*",
    "libX*.so.*",
    "libxcb*.so.*",
    "libxkbcommon*.so.*",
    "libfontconfig.so.*",
    "libfreetype.so.*",
    "libpng16.so.*",
    "libharfbuzz.so.*",
    "libgraphite2.so.*",
    "libbrotli*.so.*",
    "libexpat.so.*",
    "libbsd.so.*",
    "libmd.so.*",
    "libglib-2.0.so.*",
    "libgobject-2.0.so.*",
    "libgio-2.0.so.*",
    "libgmodule-2.0.so.*",
    "libgthread-2.0.so.*",
    "libpcre2-8.so.*",
    "libmount.so.*",
    "libblkid.so.*",
    "libselinux.so.*",
    "libdbus-1.so.*",
    "libsystemd.so.*",
    "libcap.so.*",
    "libgcrypt.so.*",
    "libgpg-error.so.*",
    "liblz4.so.*",
    "libzstd.so.*",
    "libgssapi_krb5.so.*",
    "libkrb5*.so.*",
    "libk5crypto.so.*",
    "libcom_err.so.*",
    "libkeyutils.so.*",
)

# Bundled paths (as PyInstaller places them) dropped after analysis: Qt translations the app never
# loads, and the libraries only the excluded modules and plugins link against (the GTK stack came with the
# GTK platform theme, which would load the system's GTK against these copies).
DROPPED_PATHS = (
    "libcairo*.so.*",
    "libpango*.so.*",
    "libatk-*.so.*",
    "libgdk_pixbuf-*.so.*",
    "libpixman-*.so.*",
    "libfribidi.so.*",
    "libthai.so.*",
    "libdatrie.so.*",
    "libjpeg.so.*",
    "PySide6/Qt/translations/*",
    "PySide6/translations/*",
    "PySide6/Qt/lib/libQt6Qml*",
    "PySide6/Qt/lib/libQt6Quick*",
    "PySide6/Qt/lib/libQt6Pdf*",
    "PySide6/Qt/lib/libQt6VirtualKeyboard*",
    "*libQt6EglF*",
    "PySide6/Qt/lib/libQt6WaylandCompositor*",
    "PySide6/Qt/lib/libQt6Labs*",
    "PySide6/Qt/lib/libQt6Lottie*",
    "PySide6/Qt/lib/libQt6Designer*",
    "PySide6/Qt/lib/libQt6OpenGLWidgets*",
    "PySide6/Qt/lib/libQt6PrintSupport*",
    "PySide6/Qt/lib/libQt6Sql*",
    "PySide6/Qt/lib/libQt6Test*",
    "PySide6/Qt/lib/libQt6SvgWidgets*",
)


def version() -> str:
    """The project's version from pyproject.toml: the one version every installer carries."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def runtime_requirements() -> list[str]:
    """The app's runtime dependencies from pyproject.toml (what the build environment installs)."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def model_name() -> str:
    """The bundled model folder's name: DEFAULT_MODEL_NAME in qa_reader/config.py (read, not imported)."""
    tree = ast.parse((ROOT / "qa_reader" / "config.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DEFAULT_MODEL_NAME" for t in node.targets):
            return str(ast.literal_eval(node.value))
    raise LookupError("qa_reader/config.py no longer defines DEFAULT_MODEL_NAME")


def required_files() -> list[Path]:
    """Files the app cannot ship without: the model and the resources the app and self-test open."""
    model = ROOT / "models" / model_name()
    return [model / name for name in MODEL_FILES] + [ROOT / "resources" / name for name in RESOURCE_FILES]


def missing_files() -> list[Path]:
    """The required files that are not there."""
    return [path for path in required_files() if not path.is_file()]


def data_files() -> list[tuple[str, str]]:
    """(source file, folder inside the bundle) for PyInstaller: the model folder and all of resources/."""
    model = PurePosixPath("models", model_name())
    pairs = [(str(ROOT / model / name), str(model)) for name in MODEL_FILES]
    for path in sorted((ROOT / "resources").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(ROOT)
            pairs.append((str(path), relative.parent.as_posix()))
    return pairs


def hidden_imports() -> list[str]:
    """Every module of qa_reader.gui: the command line imports the GUI lazily, so analysis must be told."""
    gui = ROOT / "qa_reader" / "gui"
    return sorted(
        "qa_reader.gui" if path.stem == "__init__" else f"qa_reader.gui.{path.stem}" for path in gui.glob("*.py")
    )


def keeps(bundle_path: str) -> bool:
    """Whether a file PyInstaller collected (its path inside the bundle) stays in the frozen app."""
    path = bundle_path.replace("\\", "/")
    if any(fnmatch.fnmatch(path, pattern) for pattern in DROPPED_PATHS):
        return False
    if sys.platform.startswith("linux") and any(fnmatch.fnmatch(path, pattern) for pattern in SYSTEM_LIBRARIES):
        return False
    parts = path.split("/")
    if parts[0] == "PySide6" and len(parts) >= 3 and parts[-3] == "plugins":
        words = QT_PLUGINS.get(parts[-2], ())
        return any(word in parts[-1] for word in words)
    return True


def main(argv: list[str]) -> int:
    """`python contents.py check|version|requirements`: the build scripts' questions, answered on stdout."""
    command = argv[0] if argv else "check"
    if command == "version":
        print(version())
    elif command == "requirements":
        print("\n".join(runtime_requirements()))
    elif command == "check":
        missing = missing_files()
        for path in missing:
            print(f"missing: {path.relative_to(ROOT)}", file=sys.stderr)
        if missing:
            print(
                "The installer cannot be built without them. The model folder comes from the training recipe "
                "(README, 'Reproducing the model'); resources/ holds the icon, the sample document and "
                "sample/selftest.json, the self-test's questions about it.",
                file=sys.stderr,
            )
            return 1
    else:
        print(f"unknown command {command!r}; use check, version or requirements", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
