"""The instructor's batch grader: ``python -m graders grade --lesson NN SUBMISSIONS...``.

Each submission runs in a bubblewrap sandbox of its own (:mod:`graders.batch.isolation`)
under a time, a memory and a disk limit (:mod:`graders.batch.sandbox`), its results handed
back over a private pipe (:mod:`graders.batch.holder`, :mod:`graders.batch.channel`). Its
graded cells are not run as written: each is replaced by a call that exports the objects it
would check (:mod:`graders.batch.export`) as artifacts. Exported functions are re-run in a
sandbox of their own (:mod:`graders.batch.rerun`), and the lesson's checks run on the
artifacts in another (:mod:`graders.batch.evaluate`, :mod:`graders.batch.grade`: Keras
models loaded with ``safe_mode=True``, test accuracy on the grader's secret held-out
split), never in the process that writes results. Jobs are forked warm into their
sandboxes (:mod:`graders.batch.warm_kernels`). Results are written atomically and a rerun
resumes (:mod:`graders.batch.results`). Should the grader be killed, its reaper ends what
its sandboxes left (:mod:`graders.batch.reaper`).
"""
