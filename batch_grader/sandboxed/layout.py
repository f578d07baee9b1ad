"""What a sandbox looks like from inside: its user, and where the grader's inputs, the
dataset and its one writable folder are."""

SANDBOX_UID = 1000  # also its group id; no capabilities
SANDBOX_HOME = "/home/learner"  # the writable tmpfs: working folder, HOME and TMPDIR
SANDBOX_INPUT = "/grader-input"  # the grader's inputs, read-only
SANDBOX_DATA = "/course-data"  # the dataset cache the sandbox reads, read-only
