//! The command-line definition. Everything user-visible about flags lives
//! here, so that completions and man pages (see `commands::generate`) are
//! produced from one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::launcher::ServerType;

/// Serve Python web apps on Kubernetes and OpenShift.
///
/// As a kubectl/oc plugin it writes `.warpdrive/` (init), tunes and scales
/// workloads (tune, scale) and turns on live code reloading (reload). Inside
/// the container the same binary, installed as `warpdrive`, starts the app
/// (exec).
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-warpdrive",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    after_help = "Examples:\n  kubectl warpdrive init --yes\n  kubectl warpdrive tune deploy/blog --processes 3 --threads 15\n  warpdrive exec --dry-run"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the app in the current directory on the right WSGI server (in the container).
    #[command(
        after_help = "Examples:\n  warpdrive exec\n  warpdrive exec --dry-run -o json\n  warpdrive exec -- python manage.py migrate"
    )]
    Exec(ExecArgs),
    /// Build the app into the image: hooks, pip install, the server, collectstatic, the record (in the container).
    #[command(
        after_help = "Examples:\n  warpdrive build\n  warpdrive build --app-root /opt/app-root/src"
    )]
    Build(BuildArgs),
    /// Run the alive hook (a liveness probe); exit 0 with no hook.
    #[command(after_help = "Examples:\n  warpdrive alive\n  warpdrive alive --app-root .")]
    Alive(LifecycleArgs),
    /// Run the ready hook (a readiness probe); exit 0 with no hook.
    #[command(after_help = "Examples:\n  warpdrive ready\n  warpdrive ready --app-root .")]
    Ready(LifecycleArgs),
    /// Run the migrate hook, else the Procfile release: command, else Django's migrate (unless DISABLE_MIGRATE).
    #[command(after_help = "Examples:\n  warpdrive migrate\n  warpdrive migrate --app-root .")]
    Migrate(LifecycleArgs),
    /// Run the setup hook (one-time setup of the app's data); exit 0 with no hook.
    #[command(after_help = "Examples:\n  warpdrive setup\n  warpdrive setup --app-root .")]
    Setup(LifecycleArgs),
    /// Run the verify hook (checks of a deployment); exit 0 with no hook.
    #[command(after_help = "Examples:\n  warpdrive verify\n  warpdrive verify --app-root .")]
    Verify(LifecycleArgs),
    /// Print the runtime environment as shell-quoted `export NAME=VALUE` lines.
    #[command(after_help = "Examples:\n  warpdrive env\n  warpdrive env --app-root .")]
    Env(LifecycleArgs),
    /// Start an interactive shell ($SHELL, else /bin/sh) with the runtime environment.
    #[command(
        after_help = "Examples:\n  warpdrive shell\n  warpdrive shell --app-root /opt/app-root/src"
    )]
    Shell(LifecycleArgs),
    /// Write the .warpdrive/ files that say how the app is served.
    #[command(
        after_help = "Examples:\n  kubectl warpdrive init\n  kubectl warpdrive init --yes --dry-run\n  kubectl warpdrive init --server-type gunicorn --entry-point blog.wsgi:application --yes"
    )]
    Init(InitArgs),
    /// Set processes, threads and other MOD_WSGI_* knobs on Deployments, StatefulSets or DeploymentConfigs.
    #[command(
        after_help = "Examples:\n  kubectl warpdrive tune deploy/blog --processes 3 --threads 15\n  oc warpdrive tune dc/blog --list\n  kubectl warpdrive tune deploy -l app=blog MOD_WSGI_THREADS=10 MOD_WSGI_QUEUE_TIMEOUT-"
    )]
    Tune(TuneArgs),
    /// Change the replica count and wait until the pods are ready.
    #[command(
        after_help = "Examples:\n  kubectl warpdrive scale deploy/blog --replicas 3\n  oc warpdrive scale dc/blog --replicas 1 --current-replicas 3\n  kubectl warpdrive scale blog --replicas 2 --no-wait"
    )]
    Scale(ScaleArgs),
    /// Turn live code reloading on or off and sync local code into the pod.
    #[command(
        after_help = "Examples:\n  kubectl warpdrive reload deploy/blog\n  kubectl warpdrive reload deploy/blog --watch --delete\n  kubectl warpdrive reload deploy/blog off"
    )]
    Reload(ReloadArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  kubectl warpdrive completion bash > /etc/bash_completion.d/kubectl-warpdrive\n  kubectl warpdrive completion zsh > \"${fpath[1]}/_kubectl-warpdrive\""
    )]
    Completion(CompletionArgs),
    /// kubectl's plugin completion protocol (called by kubectl_complete-warpdrive).
    #[command(name = "__complete", hide = true)]
    Complete(CompleteArgs),
    /// Regenerate completions/ and man/ from this definition.
    #[command(name = "__generate", hide = true)]
    Generate(GenerateArgs),
}

/// The help of a `--server-type` flag: `lead`, the accepted words (from
/// [`ServerType::words`]) in parentheses, then `default`. The flag itself
/// takes text, parsed by [`ServerType::parse`] so that the error can name
/// where a bad word came from.
fn server_type_help(lead: &str, default: &str) -> String {
    let words: Vec<&str> = ServerType::words().collect();
    format!("{lead} ({}) {default}", words.join(", "))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DryRunOutput {
    /// One shell-quoted command line.
    #[default]
    Text,
    /// `{server_type, reason, argv, env, cwd}`.
    Json,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]
    #[arg(long, value_name = "DIR")]
    pub app_root: Option<PathBuf>,
    #[arg(long, value_name = "TYPE", help = server_type_help(
        "Server type",
        "[default: $WARPDRIVE_SERVER_TYPE, else .warpdrive/server_type, else auto]",
    ))]
    pub server_type: Option<String>,
    /// Print the command that would run and start nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format for --dry-run.
    #[arg(short = 'o', long, value_enum, default_value_t = DryRunOutput::Text)]
    pub output: DryRunOutput,
    /// Stay as a supervisor (signal forwarding, zombie reaping) even when not PID 1.
    #[arg(long, env = "WARPDRIVE_SUPERVISE")]
    pub supervise: bool,
    /// Run this command instead of the app server, with the same environment and PID-1 handling.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]
    #[arg(long, value_name = "DIR")]
    pub app_root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LifecycleArgs {
    /// The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]
    #[arg(long, value_name = "DIR")]
    pub app_root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The application directory.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub app_root: PathBuf,
    #[arg(long, value_name = "TYPE", help = server_type_help(
        "Server type to write to .warpdrive/server_type",
        "[default: the detected one]",
    ))]
    pub server_type: Option<String>,
    /// WSGI entry point to record: `module:callable`, a factory
    /// `module:create_app()` or a dotted module [default: Django's
    /// WSGI_APPLICATION, else the callable wsgi.py defines]
    #[arg(long, value_name = "ENTRY")]
    pub entry_point: Option<String>,
    /// URL under which static files are served, e.g. /static/ [default: Django's STATIC_URL]
    #[arg(long, value_name = "URL")]
    pub static_url: Option<String>,
    /// Directory of the static files, inside the app [default: Django's STATIC_ROOT]
    #[arg(long, value_name = "DIR")]
    pub static_root: Option<String>,
    /// Do not serve static files.
    #[arg(long, conflicts_with_all = ["static_url", "static_root"])]
    pub no_static: bool,
    /// Proxy header to trust (repeatable): X-Forwarded-For, X-Forwarded-Host,
    /// X-Forwarded-Port, X-Forwarded-Proto, X-Forwarded-Scheme, Forwarded.
    #[arg(long = "trust-proxy-header", value_name = "HEADER")]
    pub trust_proxy_header: Vec<String>,
    /// Trust no proxy headers.
    #[arg(long, conflicts_with = "trust_proxy_header")]
    pub no_proxy_headers: bool,
    /// Pin the process count in server_args (--workers for gunicorn)
    /// [default: leave it to MOD_WSGI_PROCESSES]
    #[arg(long, value_name = "N")]
    pub processes: Option<u32>,
    /// Pin the thread count in server_args [default: leave it to MOD_WSGI_THREADS]
    #[arg(long, value_name = "N")]
    pub threads: Option<u32>,
    /// Also write a commented .warpdrive/action_hooks/deploy skeleton.
    #[arg(long)]
    pub deploy_hook: bool,
    /// Accept the detected defaults for every question not given as a flag.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Overwrite existing files without asking.
    #[arg(long)]
    pub force: bool,
    /// Print the files that would be written and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Flags kubectl would normally parse itself; a plugin must parse them.
#[derive(Debug, Args, Clone, Default)]
pub struct KubeArgs {
    /// Path to the kubeconfig file [default: $KUBECONFIG, else ~/.kube/config]
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Namespace [default: the current context's].
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Username to impersonate.
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate (repeatable).
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// Timeout of each API request as a whole, e.g. 10s (0 means none) [default: 30s].
    #[arg(long, global = true, value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// The API server URL, instead of the kubeconfig cluster's.
    #[arg(short = 's', long, global = true, value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token for the API server, instead of the kubeconfig user's credentials.
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// A CA certificate file to check the server's certificate with.
    #[arg(long, global = true, value_name = "FILE")]
    pub certificate_authority: Option<PathBuf>,
    /// A client certificate file for TLS.
    #[arg(long, global = true, value_name = "FILE")]
    pub client_certificate: Option<PathBuf>,
    /// The key file of --client-certificate.
    #[arg(long, global = true, value_name = "FILE")]
    pub client_key: Option<PathBuf>,
    /// Do not check the server's certificate (insecure).
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
    /// The server name to check the server's certificate against, instead of the URL's host.
    #[arg(long, global = true, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// Log level: 6 and above print one line per API request on stderr (method, URL, status, ms).
    #[arg(
        short = 'v',
        long = "v",
        global = true,
        value_name = "LEVEL",
        default_value_t = 0
    )]
    pub verbosity: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DryRun {
    #[default]
    None,
    Client,
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Yaml,
    Json,
    /// `KIND.GROUP/NAME`, as kubectl's `-o name` (`deployment.apps/blog`).
    Name,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Profile {
    /// Many threads: requests mostly wait on I/O.
    #[default]
    Io,
    /// Processes close to the CPU count: requests mostly compute.
    Cpu,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The workloads, then the changes: TYPE/NAME... (deployment, deploy,
    /// statefulset, sts, deploymentconfig, dc), TYPE NAME..., or a bare NAME
    /// (a Deployment or DeploymentConfig); then MOD_WSGI_X=VALUE to set and
    /// MOD_WSGI_X- to remove, as `kubectl set env` takes them.
    #[arg(value_name = "TARGET|KEY=VALUE|KEY-", num_args = 0..)]
    pub target: Vec<String>,
    /// Tune every workload of TYPE whose labels match, e.g. `tune deploy -l app=shop`.
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "all")]
    pub selector: Option<String>,
    /// Tune every workload of TYPE in the namespace, e.g. `tune deploy --all`.
    #[arg(long)]
    pub all: bool,
    /// MOD_WSGI_PROCESSES.
    #[arg(long, value_name = "N")]
    pub processes: Option<String>,
    /// MOD_WSGI_THREADS.
    #[arg(long, value_name = "N")]
    pub threads: Option<String>,
    /// Set any MOD_WSGI_* variable (repeatable).
    #[arg(long = "set", value_name = "MOD_WSGI_X=V")]
    pub set: Vec<String>,
    /// Remove a MOD_WSGI_* variable (repeatable).
    #[arg(long = "unset", value_name = "NAME")]
    pub unset: Vec<String>,
    /// Print the container's environment (KEY=VALUE lines), as `oc set env --list` does.
    #[arg(long)]
    pub list: bool,
    /// The container [default: the default-container annotation, else the only one].
    #[arg(short = 'c', long, value_name = "NAME")]
    pub container: Option<String>,
    /// client: send nothing; server: send the patch with dryRun=All. A bare --dry-run means client.
    #[arg(long, value_enum, default_value_t = DryRun::None, num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRun,
    /// Print the resulting object (name: `deployment.apps/NAME`).
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<OutputFormat>,
    /// Do not wait for the rollout.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for the rollouts, e.g. 5m (0 waits forever).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub timeout: String,
    /// Edit manifests from -f instead of the cluster.
    #[arg(long, requires = "filename")]
    pub local: bool,
    /// Manifest file, directory, or - for stdin (with --local).
    #[arg(short = 'f', long = "filename", value_name = "FILE|DIR|-")]
    pub filename: Option<String>,
    /// Write the edited manifests back to their files (with --local).
    #[arg(long, requires = "local")]
    pub in_place: bool,
    /// Suggest processes and threads from the container's resources.
    #[arg(long)]
    pub recommend: bool,
    /// Workload profile for --recommend.
    #[arg(long, value_enum, default_value_t = Profile::Io, requires = "recommend")]
    pub profile: Profile,
    /// Apply the recommendation.
    #[arg(long, requires = "recommend")]
    pub apply: bool,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// deployment/NAME, deploy/NAME, statefulset/NAME, sts/NAME, deploymentconfig/NAME, dc/NAME or NAME.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// The desired number of replicas.
    #[arg(long, value_name = "N")]
    pub replicas: u32,
    /// Precondition: only scale if the current replica count is this.
    #[arg(long, value_name = "M")]
    pub current_replicas: Option<u32>,
    /// Do not wait for the pods to be ready.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait, e.g. 5m (0 waits forever).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub timeout: String,
    /// client: send nothing; server: send the change with dryRun=All. A bare --dry-run means client.
    #[arg(long, value_enum, default_value_t = DryRun::None, num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRun,
    /// Print the resulting Scale object (name: `deployment.apps/NAME`).
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<OutputFormat>,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OnOff {
    #[default]
    On,
    Off,
}

#[derive(Debug, Args)]
pub struct ReloadArgs {
    /// deployment/NAME, deploy/NAME, statefulset/NAME, sts/NAME, deploymentconfig/NAME, dc/NAME or NAME.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// on: remember the replicas, scale to 1 and set MOD_WSGI_RELOAD_ON_CHANGES=1
    /// (one rollout), wait for the pod, sync. off: unset it, restore the replicas.
    #[arg(value_enum, default_value_t = OnOff::On)]
    pub state: OnOff,
    /// Local directory to sync into the pod.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub source: PathBuf,
    /// Directory in the container [default: the container's WARPDRIVE_SRC_ROOT, else /opt/app-root/src].
    #[arg(long, value_name = "PATH")]
    pub dest: Option<String>,
    /// The container [default: the default-container annotation, else the only one].
    #[arg(short = 'c', long, value_name = "NAME")]
    pub container: Option<String>,
    /// Keep syncing changed files until Ctrl-C (changes are coalesced until 50 ms of quiet).
    #[arg(long)]
    pub watch: bool,
    /// Remove files in the pod that were deleted locally.
    #[arg(long)]
    pub delete: bool,
    /// Gitignore-style pattern to leave out (repeatable). Always left out: .git,
    /// __pycache__, *.pyc, and the patterns of .warpdrive/sync-ignore (else .gitignore).
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Only switch reloading on; copy no files.
    #[arg(long)]
    pub no_sync: bool,
    /// How long to wait for the rollout, e.g. 5m (0 waits forever).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub timeout: String,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The words typed so far; the last one is the word being completed.
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub words: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write completions/ and man/ into [default: the current
    /// directory, which must be the repository root].
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}
