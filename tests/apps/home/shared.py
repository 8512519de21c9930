import probe  # noqa: F401  (copied beside this file by the tests)

NAME = "with shared code"
