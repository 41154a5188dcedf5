"""Academic integrity: evidence of copied answers and copied code, for a person to judge.

`answer_pairs`: answers equal to another student's key, shared unusual wrong answers, with
their chance level; `winnow` and `code_pairs`: per-function token fingerprints and the
pairs of files sharing them; `collect`: reading the gradebook, the submissions and the
references; `pages`: similarity.csv, the pair pages and report.html's section; `api`:
`grader similarity` and the step `grade` runs. Nothing here runs student code or changes
a grade.
"""
