"""The instructor's batch grader: ``python -m batch_grader grade --lesson NN SUBMISSIONS...``,
and the class report of its results, ``python -m batch_grader report RESULTS``.

Installed with the ``instructor`` extra; learners' installs (the student edition) do not
carry it. Laid out by trust:

- the grader's own side: the command line (:mod:`~batch_grader.cli`), which only turns its
  arguments into a typed :class:`~batch_grader.request.GradeRequest`; the run of a request
  (:mod:`~batch_grader.grading`), here or on a Dask cluster
  (:mod:`~batch_grader.cluster`), each machine's batch set up as a
  :class:`~batch_grader.session.BatchSession`; and ``trusted/``, the machinery that runs
  with the grader's rights: isolation with bubblewrap, limits and memory groups,
  launching sandboxes, the warm-kernel zygote, the reaper, the results folder;
- ``sandboxed/``: what runs inside a sandbox, on a submission's untrusted input (its
  notebook's run, the re-run of its functions, the checks on its artifacts, the holder
  that hands results back). It imports nothing of the grader's side, and it is the only
  part of this package a sandbox sees;
- ``report/``: the class report and gradebooks, read from a results folder.

Each submission runs in a bubblewrap sandbox of its own
(:mod:`batch_grader.trusted.isolation`) under a time, a memory and a disk limit
(:mod:`batch_grader.trusted.sandbox`), its results handed back over a private pipe
(:mod:`batch_grader.sandboxed.holder`, :mod:`batch_grader.sandboxed.channel`). Its graded
cells are not run as written: each is replaced by a call that exports the objects it would
check (:mod:`batch_grader.sandboxed.export`) as artifacts. Exported functions are re-run in
a sandbox of their own (:mod:`batch_grader.sandboxed.rerun`), and the lesson's checks run
on the artifacts in another (:mod:`batch_grader.sandboxed.evaluate`,
:mod:`batch_grader.sandboxed.grade`: Keras models loaded with ``safe_mode=True``, test
accuracy on the grader's secret held-out split), never in the process that writes
results. Jobs are forked warm into their sandboxes (:mod:`batch_grader.trusted.warm_kernels`).
Results are written atomically and a rerun resumes (:mod:`batch_grader.trusted.results`).
Should the grader be killed, its reaper ends what its sandboxes left
(:mod:`batch_grader.trusted.reaper`).
"""
