"""The instructor's batch grader: ``python -m graders grade --lesson NN SUBMISSIONS...``.

Each submission runs in a fresh kernel, in its own temporary folder, under a time and a
memory limit (:mod:`graders.batch.sandbox`). Its graded cells are not run as written: each
is replaced by a call that exports the objects it would check (:mod:`graders.batch.export`)
as artifacts. The trusted grader process then loads the artifacts (Keras models with
``safe_mode=True``) and runs the lesson's checks on them (:mod:`graders.batch.grade`), so
nothing a notebook does to the ``graders`` package inside its kernel changes its grade.
Results are written atomically and a rerun resumes (:mod:`graders.batch.results`).
"""
