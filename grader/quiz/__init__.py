"""Quizzes: the spec (`spec`), roster (`roster`), selection and variants (`build`), rendering
(`render`, `mathml`), answer sheets (`answer_sheet`), the quiz folder
(`create`, `write`, `documents`), reading it back (`load`) and `grader check` (`check`)."""
