"""The installer recipes agree with each other and with the code: fast checks, no build.

`make installer` builds and smoke-tests the real thing; these catch a renamed file, a forgotten document
type or a version bump that reached one recipe only.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import json
import os
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import qa_reader
from qa_reader import config

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
# Uniform Type Identifiers macOS uses for the document types, by extension.
MACOS_TYPES = {
    ".pdf": "com.adobe.pdf",
    ".txt": "public.plain-text",
    ".md": "net.daringfireball.markdown",
    ".epub": "org.idpf.epub-container",
}


def load(path: Path) -> ModuleType:
    """A packaging script as a module (packaging/ is not a package: it would shadow PyPI's `packaging`)."""
    name = f"_packaging_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def contents() -> ModuleType:
    return load(PACKAGING / "contents.py")


def desktop_entry() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(PACKAGING / "linux" / "qa-reader.desktop", encoding="utf-8")
    return parser


def test_the_version_is_the_same_everywhere(contents: ModuleType) -> None:
    assert contents.version() == qa_reader.__version__
    control = (PACKAGING / "linux" / "control.in").read_text(encoding="utf-8")
    assert "Version: @VERSION@" in control
    iss = (PACKAGING / "windows" / "qa-reader.iss").read_text(encoding="utf-8")
    assert "AppVersion={#AppVersion}" in iss and "#error" in iss  # passed in from pyproject.toml, never written
    plist = plistlib.loads((PACKAGING / "macos" / "Info.plist").read_bytes())
    assert "CFBundleShortVersionString" not in plist and "CFBundleVersion" not in plist


def test_the_bundled_model_is_the_one_the_app_opens(contents: ModuleType) -> None:
    assert contents.model_name() == config.DEFAULT_MODEL_NAME


def test_the_resources_the_app_needs_are_there(contents: ModuleType) -> None:
    missing = [path for path in contents.required_files() if "models" not in path.parts and not path.is_file()]
    assert not missing


def test_the_model_files_are_there_when_the_model_is() -> None:
    model = ROOT / "models" / config.DEFAULT_MODEL_NAME
    if not model.is_dir():
        pytest.skip(f"{model.relative_to(ROOT)} is not in this checkout")
    assert all((model / name).is_file() for name in ("model.onnx", "tokenizer.json", "manifest.json"))


def test_every_data_file_exists_and_lands_in_the_folder_the_app_reads(contents: ModuleType) -> None:
    model = f"models/{config.DEFAULT_MODEL_NAME}"
    for source, destination in contents.data_files():
        if destination != model:
            assert Path(source).is_file(), source
        assert destination == model or destination.startswith("resources")
    destinations = {destination for _, destination in contents.data_files()}
    assert {model, "resources", "resources/sample"} <= destinations


def test_the_self_test_questions_are_answerable_from_the_sample() -> None:
    checks = json.loads((ROOT / "resources" / "sample" / "selftest.json").read_text(encoding="utf-8"))
    document = (ROOT / "resources" / "sample" / checks["document"]).read_text(encoding="utf-8")
    assert checks["questions"]
    for check in checks["questions"]:
        assert check["question"].strip()
        assert check["expect"].lower() in document.lower(), check


def test_hidden_imports_cover_every_gui_module(contents: ModuleType) -> None:
    modules = set(contents.hidden_imports())
    assert "qa_reader.gui.app" in modules
    for path in (ROOT / "qa_reader" / "gui").glob("*.py"):
        assert (f"qa_reader.gui.{path.stem}" if path.stem != "__init__" else "qa_reader.gui") in modules


def _guarded(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside `try: ... except ImportError` (optional: they cannot crash the app)."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in node.handlers
        ):
            for statement in node.body:
                guarded.update(id(inner) for inner in ast.walk(statement))
    return guarded


def imported_modules(package: Path, skip: tuple[str, ...]) -> set[str]:
    """Every module named by an import statement in the package's modules but those in or under `skip`, and
    but for optional imports guarded by `except ImportError`."""
    names: set[str] = set()
    for path in package.rglob("*.py"):
        module = ".".join((package.name, *path.relative_to(package).with_suffix("").parts))
        if any(module == skipped or module.startswith(skipped + ".") for skipped in skip):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        guarded = _guarded(tree)
        for node in ast.walk(tree):
            if id(node) in guarded:
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
    return names


def test_nothing_the_app_imports_is_left_out(contents: ModuleType) -> None:
    # The excluded parts of the package itself (training, the Ray pipeline) may import what they like.
    own = tuple(name for name in contents.EXCLUDED_MODULES if name.startswith("qa_reader."))
    imported = imported_modules(ROOT / "qa_reader", skip=own)
    for excluded in contents.EXCLUDED_MODULES:
        clashes = {name for name in imported if name == excluded or name.startswith(excluded + ".")}
        assert not clashes, f"{excluded} is excluded from the frozen app but imported by {clashes}"


@pytest.mark.parametrize(
    ("bundle_path", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
        ("PySide6/Qt/plugins/imageformats/libqsvg.so", True),
        ("PySide6/Qt/plugins/imageformats/libqtiff.so", False),
        ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", True),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
        ("PySide6/Qt/plugins/sqldrivers/libqsqlite.so", False),
        ("PySide6/plugins/platforms/qwindows.dll", True),
        ("PySide6/plugins/styles/qmodernwindowsstyle.dll", True),
        ("PySide6/Qt/plugins/platforms/libqcocoa.dylib", True),
        ("PySide6/Qt/translations/qtbase_de.qm", False),
        ("PySide6/Qt/lib/libQt6Qml.so.6", False),
        ("PySide6/Qt/lib/libQt6Gui.so.6", True),
        ("libcairo.so.2", False),
        ("models/minilm-distilbert-squad-int8/model.onnx", True),
        ("onnxruntime/capi/onnxruntime_pybind11_state.so", True),
    ],
)
def test_qt_plugins_and_libraries_kept(contents: ModuleType, bundle_path: str, kept: bool) -> None:
    assert contents.keeps(bundle_path) is kept


def test_the_desktop_entry_is_valid(contents: ModuleType) -> None:
    path = PACKAGING / "linux" / "qa-reader.desktop"
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(path)], capture_output=True, text=True)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout
    entry = desktop_entry()["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == contents.APP_NAME
    assert entry["Exec"] == f"{contents.EXECUTABLE} open %F"
    assert entry["TryExec"] == contents.EXECUTABLE
    assert entry["Icon"] == "qa-reader"
    assert entry["Terminal"] == "false"
    mime_types = [kind for kind in entry["MimeType"].split(";") if kind]
    assert sorted(mime_types) == sorted(contents.DOCUMENT_TYPES.values())
    for action in entry.get("Actions", "").split(";"):
        if action:
            assert desktop_entry()[f"Desktop Action {action}"]["Exec"].startswith(contents.EXECUTABLE + " ")


def control_fields() -> dict[str, str]:
    text = (PACKAGING / "linux" / "control.in").read_text(encoding="utf-8")
    fields: dict[str, str] = {}
    for match in re.finditer(r"^([A-Za-z-]+):(.*(?:\n[ \t].*)*)", text, re.MULTILINE):
        fields[match[1]] = match[2].strip()
    return fields


def test_the_control_file_names_the_package_and_what_the_build_fills_in() -> None:
    fields = control_fields()
    assert fields["Package"] == "qa-reader"
    assert fields["Architecture"] == "@ARCHITECTURE@"
    assert fields["Installed-Size"] == "@INSTALLED_SIZE@"
    for required in ("Maintainer", "Description", "Depends", "Section", "Priority"):
        assert fields[required], required
    depends = {clause.split("(")[0].strip() for clause in fields["Depends"].split(",")}
    # What Qt's xcb platform plugin loads from the system (the build checks the full list against the bundle).
    assert {"libc6", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0", "libxkbcommon-x11-0", "libegl1"} <= depends


def test_the_library_check_reads_the_control_file() -> None:
    check = load(PACKAGING / "linux" / "check_libraries.py")
    names, libc_minimum = check.depends(PACKAGING / "linux" / "control.in")
    assert "libxcb-icccm4" in names and "libc6" in names
    assert libc_minimum >= (2, 31)


def test_maintainer_scripts_are_executable_posix_shell() -> None:
    for name in ("postinst", "postrm"):
        path = PACKAGING / "linux" / name
        assert os.access(path, os.X_OK), f"{name} must be executable"
        assert path.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
        subprocess.run(["sh", "-n", str(path)], check=True)
    postrm = (PACKAGING / "linux" / "postrm").read_text(encoding="utf-8")
    assert "rm -rf /opt/qa-reader" in postrm
    assert "$HOME" not in postrm and "/home" not in postrm  # the user's library is never touched


def test_the_build_scripts_parse_and_are_executable() -> None:
    scripts = [PACKAGING / "freeze.sh", *sorted(PACKAGING.glob("*/build.sh")), PACKAGING / "linux" / "verify.sh"]
    assert {path.parent.name for path in scripts} >= {"linux", "windows", "macos"}
    for path in scripts:
        assert os.access(path, os.X_OK), f"{path.relative_to(ROOT)} must be executable"
        subprocess.run(["bash", "-n", str(path)], check=True)


def test_make_installer_runs_a_script_that_exists() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^installer:", makefile, re.MULTILINE)
    assert "bash packaging/$(PLATFORM)/build.sh" in makefile
    for platform in ("linux", "macos", "windows"):
        assert (PACKAGING / platform / "build.sh").is_file()


def test_the_spec_uses_the_shared_contents(contents: ModuleType) -> None:
    spec = (PACKAGING / "qa-reader.spec").read_text(encoding="utf-8")
    for use in ("contents.data_files()", "contents.hidden_imports()", "contents.EXCLUDED_MODULES", "contents.keeps"):
        assert use in spec
    assert (PACKAGING / "launcher.py").is_file() and '"launcher.py"' in spec
    assert '"macos" / "Info.plist"' in spec and (PACKAGING / "macos" / "Info.plist").is_file()


def test_the_windows_installer_installs_what_pyinstaller_makes(contents: ModuleType) -> None:
    iss = (PACKAGING / "windows" / "qa-reader.iss").read_text(encoding="utf-8")
    assert re.search(r"^AppId=\{\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$", iss, re.MULTILINE)
    assert f'#define AppExe "{contents.EXECUTABLE}.exe"' in iss
    assert f'#define AppName "{contents.APP_NAME}"' in iss
    assert f"..\\..\\dist\\{contents.EXECUTABLE}\\*" in iss  # the spec's COLLECT folder
    assert "..\\..\\build\\icons\\qa-reader.ico" in iss  # written by render_icon.py
    for extension in contents.DOCUMENT_TYPES:
        assert f'Subkey: "Software\\Classes\\{extension}\\OpenWithProgids"' in iss, extension
        assert f'ValueName: "{extension}"' in iss, extension
    assert '""{app}\\{#AppExe}"" open ""%1""' in iss


def test_the_macos_bundle_opens_every_document_type(contents: ModuleType) -> None:
    plist = plistlib.loads((PACKAGING / "macos" / "Info.plist").read_bytes())
    declared = {kind for entry in plist["CFBundleDocumentTypes"] for kind in entry["LSItemContentTypes"]}
    assert declared == {MACOS_TYPES[extension] for extension in contents.DOCUMENT_TYPES}
    for entry in plist["CFBundleDocumentTypes"]:
        assert entry["CFBundleTypeRole"] == "Viewer" and entry["LSHandlerRank"] == "Alternate"


def test_the_workflow_builds_all_three_with_the_scripts_in_the_repository() -> None:
    workflow = (ROOT / ".github" / "workflows" / "installers.yml").read_text(encoding="utf-8")
    for job in ("linux", "windows", "macos"):
        assert re.search(rf"^  {job}:$", workflow, re.MULTILINE), job
        assert f"bash packaging/{job}/build.sh" in workflow
    assert 'python-version: "3.11"' in workflow


def test_paths_alone_mean_open() -> None:
    launcher = load(PACKAGING / "launcher.py")
    sample = str(ROOT / "resources" / "sample" / "welcome.md")
    assert launcher._arguments([sample]) == ["open", sample]
    assert launcher._arguments(["ask", sample, "-q", "Who?"]) == ["ask", sample, "-q", "Who?"]
    assert launcher._arguments(["--self-test"]) == ["--self-test"]
    assert launcher._arguments([]) == []
    assert launcher._arguments(["welcome.md"]) == ["welcome.md"]  # relative: a typo of a command, not a file


def test_icon_containers_hold_every_image() -> None:
    icons = load(PACKAGING / "render_icon.py")
    images = {16: b"\x89PNG-16", 256: b"\x89PNG-256"}
    ico = icons.ico(images)
    assert ico[:6] == b"\x00\x00\x01\x00\x02\x00"
    assert ico[6] == 16 and ico[22] == 0  # a 256-pixel side is written as 0
    assert ico.endswith(b"\x89PNG-16\x89PNG-256")
    icns = icons.icns({b"ic07": b"\x89PNG-128"})
    assert icns[:4] == b"icns" and int.from_bytes(icns[4:8], "big") == len(icns)
    assert icns[8:12] == b"ic07" and int.from_bytes(icns[12:16], "big") == 8 + len(b"\x89PNG-128")
