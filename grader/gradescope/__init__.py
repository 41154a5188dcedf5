"""Gradescope: an autograder bundle that grades one submitter's own variant on Gradescope's
side with the same code as `grader grade` (`bundle` builds it, `autograder` runs in it)."""
