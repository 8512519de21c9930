//! The one integration-test binary: every test runs the real
//! `kubectl-warpdrive` executable as a subprocess.

mod apiserver;
mod apps;
mod bounds;
mod build;
mod connection;
mod contract;
mod drain;
mod exec;
mod faults;
mod hooks;
mod hostile;
mod init;
mod middleware;
mod migration;
mod pid1;
mod real;
mod reload;
mod reload_rollback;
mod shapes;
mod ship;
mod structure;
mod support;
mod sync_session;
mod tune;
mod tune_local;
