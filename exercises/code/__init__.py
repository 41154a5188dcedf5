"""The code exercises: one declaration per function of the student code contract
(docs/design.md), one module per section (`s01_fundamentals` ... `s12_generative`, named as
in `exercises/answer/`).  Each declaration carries the contract row of its function: the
`def` line, the reference function and the section.  The bank (`grader.bank`) finds the
modules by walking this package, in name order, which is section order: the contract's
order is section order, then declaration order within a module."""
