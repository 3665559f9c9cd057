"""The README and docs/ pages cannot rot: every link and file path they name exists, every shell command they show is
one a test or CI runs (with flags its program defines), and the README stays a two-minute read."""

import re
import shlex
from itertools import product
from pathlib import Path

import pytest

from rast.cli import SUBCOMMANDS

REPO_ROOT = Path(__file__).resolve().parents[1]
PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
README_LIMIT = 10 * 1024
# where the docs tell the reader to run things from (run.py from vllm/, the evaluator from simplerl_math_eval/)
WORKING_DIRS = [REPO_ROOT, REPO_ROOT / "vllm", REPO_ROOT / "simplerl_math_eval"]
TOP_LEVEL = "vllm|scripts|tests|analysis|datasets|simplerl_math_eval|docs|\\.ci"
ROOT_FILES = "README\\.md|LICENSE|ruff\\.toml|pytest\\.ini|environment\\.yaml|utils\\.py|requirements[\\w-]*\\.txt"
PATH_PATTERN = re.compile(rf"(?<![\w./{{-])((?:{TOP_LEVEL})/[\w./{{}},-]*|(?:{ROOT_FILES})(?![\w.]))")
# Paths of other projects' repositories that the pages cite.
OTHER_PROJECTS = {"tests/test_all.py", "tests/test_mixed_number_extraction.py"}  # Math-Verify's test files
# Commands shown for the reader but run by no test, and why.
NOT_RUN = {
    "curl": "queries a running server; tests/serve send the same requests with the openai client",
    "vllm": "plain vLLM's own command; the CPU build has no `vllm` script, and rast serve runs the same server",
    "conda": "the conda route on GPU machines",
}
# Sources that define a program's flags, beyond the program itself.
FLAG_SOURCES = {"analysis": [REPO_ROOT / "analysis" / "common.py"]}
TESTED_TEXT = "\n".join(path.read_text(encoding="utf-8", errors="replace")
                        for folder in ("tests", ".ci") for path in (REPO_ROOT / folder).rglob("*")
                        if path.is_file() and path.suffix in ("", ".py", ".sh", ".yaml"))


def page_id(page: Path) -> str:
    return str(page.relative_to(REPO_ROOT))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def expand_braces(path: str) -> list[str]:
    """``a_{x,y}.sh`` -> ``a_x.sh``, ``a_y.sh`` (as bash expands it)."""
    parts = re.split(r"\{([^{}]*,[^{}]*)\}", path)
    choices = [[part] if i % 2 == 0 else part.split(",") for i, part in enumerate(parts)]
    return ["".join(pieces) for pieces in product(*choices)]


def test_readme_is_a_two_minute_read():
    assert len((REPO_ROOT / "README.md").read_bytes()) < README_LIMIT


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_link_resolves(page):
    prose = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"[a-z]+://|mailto:", target):
            continue
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        assert linked.exists(), f"{page_id(page)} links to {target}, which does not exist"
        if anchor:
            assert anchor in anchors(linked), f"{page_id(page)} links to {target}: no such heading"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_file_path_named_exists(page):
    spans = re.findall(r"```.*?```|`[^`\n]+`", page.read_text(encoding="utf-8"), flags=re.S)
    named = {match.rstrip(".,") for span in spans for match in PATH_PATTERN.findall(span)}
    missing = [path for path in sorted(named - OTHER_PROJECTS) for each in expand_braces(path)
               if not any((where / each).exists() for where in WORKING_DIRS)]
    assert not missing, f"{page_id(page)} names paths that do not exist: {missing}"


def shell_commands(page: Path) -> list[tuple[Path, list[str]]]:
    """Each command of the page's bash blocks as (working directory, words), following ``cd`` within a block."""
    commands = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S):
        cwd, pending = REPO_ROOT, ""
        for line in block.replace("\\\n", " ").splitlines():
            pending += line + "\n"
            try:
                words = shlex.split(pending, comments=True)
            except ValueError:  # an open quote: the command goes on
                continue
            pending = ""
            while words:
                command, words = (words[:words.index("&&")], words[words.index("&&") + 1:]) if "&&" in words \
                    else (words, [])
                if command[:1] == ["cd"]:
                    cwd = (cwd / command[1]).resolve()
                elif command:
                    commands.append((cwd, command))
    return commands


def program(cwd: Path, words: list[str]) -> tuple[str, list[Path]]:
    """What a command runs, as a test would name it, and the sources that define its flags."""
    if words[0] == "bash":
        return Path(words[1]).name, [cwd / words[1]]
    if words[0].endswith("python"):
        if words[1] == "-m":
            return words[2], [REPO_ROOT / "datasets" / words[2] / "__main__.py"]
        script = (cwd / words[1]).resolve()
        return script.name, [script, *FLAG_SOURCES.get(script.parent.name, [])]
    if words[0] == "rast":
        assert words[1] in SUBCOMMANDS, f"rast {words[1]} is not a subcommand"
        module = SUBCOMMANDS[words[1]][0].replace(".", "/")
        return words[1], [REPO_ROOT / "vllm" / f"{module}.py"]
    return words[0], []


@pytest.mark.parametrize("page", [page for page in PAGES if shell_commands(page)], ids=page_id)
def test_every_command_is_one_a_test_or_ci_runs(page):
    for cwd, words in shell_commands(page):
        if words[0] in NOT_RUN:
            continue
        name, sources = program(cwd, words)
        assert f'"{name}"' in TESTED_TEXT or re.search(rf"[\s/\"]{re.escape(name)}\b", TESTED_TEXT), \
            f"{page_id(page)}: `{shlex.join(words)}` runs {name}, which no test or CI runs"
        if not sources:  # another project's command (lm_eval): its flags are its own
            continue
        defined = "\n".join(source.read_text(encoding="utf-8") for source in sources)
        own = words[:words.index("--")] if "--" in words else words  # after `--`: another program's flags
        for flag in (word.split("=")[0] for word in own if word.startswith("--")):
            assert (f'"{flag}' in defined or f'"{flag.rstrip("0123456789")}' in defined
                                or f"{flag})" in defined or f"{flag} " in defined), \
                f"{page_id(page)}: {name} does not define {flag}"
