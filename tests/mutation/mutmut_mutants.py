"""mutmut's mutants without running them: generate them into mutants/, and read their diffs.

`mutmut run` generates the mutants and runs them in one go; its CLI has no way to only generate,
so a fresh run could not know the mutants' diffs, and so which listed equivalents it may skip,
before it runs. This calls the generation steps `mutmut run` starts with (mutmut 3.8,
mutmut.__main__._run: copy the sources, then create_mutants), which leave mutants/ as `mutmut
run` expects to find it: it sees the files unmodified and runs the mutants it is given by name.
Run it from the checkout's root (mutmut reads pyproject.toml and writes mutants/ there):

    python tests/mutation/mutmut_mutants.py generate [--max-children 2]
    python tests/mutation/mutmut_mutants.py diffs < names     # JSON: name -> diff
"""
from __future__ import annotations

import json
import sys


def generate(max_children: int) -> None:
    from os import makedirs

    from mutmut.__main__ import create_mutants, store_lines_covered_by_tests
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir

    set_mutant_under_test("mutant_generation")
    makedirs("mutants", exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    store_lines_covered_by_tests()
    stats = create_mutants(max_children)
    print(f"mutants generated: {stats.mutated} files mutated, {stats.unmodified} unchanged since the last run",
          file=sys.stderr)


def diffs(names: list[str]) -> dict[str, str]:
    """The diff of each named mutant that exists (a name that is not a mutant is left out)."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.utils.file_utils import walk_mutatable_files

    path_of = {}
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        path_of.update(dict.fromkeys(data.exit_code_by_key, path))
    return {name: get_diff_for_mutant(name, path=path_of[name]) for name in names if name in path_of}


def main(argv: list[str]) -> int:
    if argv[:1] == ["generate"]:
        children = int(argv[argv.index("--max-children") + 1]) if "--max-children" in argv else 2
        generate(children)
        return 0
    if argv[:1] == ["diffs"]:
        print(json.dumps(diffs([line.strip() for line in sys.stdin if line.strip()])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
