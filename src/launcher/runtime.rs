//! Running a [`Plan`](super::Plan): `exec()` it, or supervise it as PID 1.
