"""Each student's results JSON and feedback page, written by a process of its own while
`grade` runs the similarity analysis (both take seconds for a large class, and one core
would otherwise sit idle): `python -P -m grader.gradebook.student_files OUT`.

The files depend on the gradebook's results only, which the analysis does not change. A
process that cannot start or fails leaves the files to `exports.write_outputs`, so they
are always written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from grader.module_process import module_command

TIMEOUT = 600.0


class Writer:
    """The background process writing OUT's student files."""

    def __init__(self, out: Path) -> None:
        command, env = module_command(__name__, str(Path(out).resolve()))
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, env=env)

    def finished(self) -> bool:
        """Wait for it; whether it wrote every file."""
        try:
            _, errors = self.process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            return False
        return self.process.returncode == 0 and not errors


def start(out: Path) -> Writer | None:
    """A `Writer` for OUT, or None when it cannot be started."""
    try:
        return Writer(out)
    except OSError:
        return None


def main(argv: list[str]) -> int:
    from grader.gradebook.exports import write_student_files
    from grader.gradebook.store import GRADEBOOK_FILE, Gradebook

    out = Path(argv[1])
    with Gradebook(out / GRADEBOOK_FILE) as gradebook:
        write_student_files(gradebook, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
