# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_warpdrive_global_optspecs
    string join \n h/help V/version
end

function __fish_kubectl_warpdrive_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_warpdrive_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_warpdrive_using_subcommand
    set -l cmd (__fish_kubectl_warpdrive_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "exec" -d 'Start the app in the current directory on the right WSGI server (in the container)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "build" -d 'Build the app into the image: hooks, pip install, the server, collectstatic, the record (in the container)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "alive" -d 'Run the alive hook (a liveness probe); exit 0 with no hook'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "ready" -d 'Run the ready hook (a readiness probe); exit 0 with no hook'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "migrate" -d 'Run the migrate hook, else the Procfile release: command, else Django\'s migrate (unless DISABLE_MIGRATE)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "setup" -d 'Run the setup hook (one-time setup of the app\'s data); exit 0 with no hook'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "verify" -d 'Run the verify hook (checks of a deployment); exit 0 with no hook'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "env" -d 'Print the runtime environment as shell-quoted `export NAME=VALUE` lines'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "shell" -d 'Start an interactive shell ($SHELL, else /bin/sh) with the runtime environment'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "init" -d 'Write the .warpdrive/ files that say how the app is served'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "tune" -d 'Set processes, threads and other MOD_WSGI_* knobs on Deployments, StatefulSets or DeploymentConfigs'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "scale" -d 'Change the replica count and wait until the pods are ready'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "reload" -d 'Turn live code reloading on or off and sync local code into the pod'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand exec" -l app-root -d 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand exec" -s o -l output -d 'Output format for --dry-run' -r -f -a "text\t'One shell-quoted command line'
json\t'`{server_type, reason, argv, env, cwd}`'"
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand exec" -l server-type -d 'Server type (auto, shell, python, paste, django, gunicorn, mod_wsgi, waitress, uwsgi, uvicorn) [default: $WARPDRIVE_SERVER_TYPE, else .warpdrive/server_type, else auto]' -r -f -a "auto\t''
shell\t''
python\t''
paste\t''
django\t''
gunicorn\t''
mod_wsgi\t''
waitress\t''
uwsgi\t''
uvicorn\t''"
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand exec" -l dry-run -d 'Print the command that would run and start nothing'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand exec" -l supervise -d 'Stay as a supervisor (signal forwarding, zombie reaping) even when not PID 1'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand exec" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand build" -l app-root -d 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand build" -s h -l help -d 'Print help'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand build" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand alive" -l app-root -d 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand alive" -s h -l help -d 'Print help'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand alive" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand ready" -l app-root -d 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand ready" -s h -l help -d 'Print help'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand ready" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand migrate" -l app-root -d 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand migrate" -s h -l help -d 'Print help'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand migrate" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand setup" -l app-root -d 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand setup" -s h -l help -d 'Print help'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand setup" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand verify" -l app-root -d 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand verify" -s h -l help -d 'Print help'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand verify" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand env" -l app-root -d 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand env" -s h -l help -d 'Print help'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand env" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand shell" -l app-root -d 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand shell" -s h -l help -d 'Print help'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand shell" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l app-root -d 'The application directory' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l entry-point -d 'WSGI entry point to record: `module:callable`, a factory `module:create_app()` or a dotted module [default: Django\'s WSGI_APPLICATION, else the callable wsgi.py defines]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l static-url -d 'URL under which static files are served, e.g. /static/ [default: Django\'s STATIC_URL]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l static-root -d 'Directory of the static files, inside the app [default: Django\'s STATIC_ROOT]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l trust-proxy-header -d 'Proxy header to trust (repeatable): X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Port, X-Forwarded-Proto, X-Forwarded-Scheme, Forwarded' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l processes -d 'Pin the process count in server_args (--workers for gunicorn) [default: leave it to MOD_WSGI_PROCESSES]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l threads -d 'Pin the thread count in server_args [default: leave it to MOD_WSGI_THREADS]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l server-type -d 'Server type to write to .warpdrive/server_type (auto, shell, python, paste, django, gunicorn, mod_wsgi, waitress, uwsgi, uvicorn) [default: the detected one]' -r -f -a "auto\t''
shell\t''
python\t''
paste\t''
django\t''
gunicorn\t''
mod_wsgi\t''
waitress\t''
uwsgi\t''
uvicorn\t''"
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l no-static -d 'Do not serve static files'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l no-proxy-headers -d 'Trust no proxy headers'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l deploy-hook -d 'Also write a commented .warpdrive/action_hooks/deploy skeleton'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -s y -l yes -d 'Accept the detected defaults for every question not given as a flag'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l force -d 'Overwrite existing files without asking'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -l dry-run -d 'Print the files that would be written and write nothing'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -s h -l help -d 'Print help'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand init" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -s l -l selector -d 'Tune every workload of TYPE whose labels match, e.g. `tune deploy -l app=shop`' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l processes -d 'MOD_WSGI_PROCESSES' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l threads -d 'MOD_WSGI_THREADS' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l set -d 'Set any MOD_WSGI_* variable (repeatable)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l unset -d 'Remove a MOD_WSGI_* variable (repeatable)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -s c -l container -d 'The container [default: the default-container annotation, else the only one]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l dry-run -d 'client: send nothing; server: send the patch with dryRun=All. A bare --dry-run means client' -r -f -a "none\t''
client\t''
server\t''"
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -s o -l output -d 'Print the resulting object (name: `deployment.apps/NAME`)' -r -f -a "yaml\t''
json\t''
name\t'`KIND.GROUP/NAME`, as kubectl\'s `-o name` (`deployment.apps/blog`)'"
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l timeout -d 'How long to wait for the rollouts, e.g. 5m (0 waits forever)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -s f -l filename -d 'Manifest file, directory, or - for stdin (with --local)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l profile -d 'Workload profile for --recommend' -r -f -a "io\t'Many threads: requests mostly wait on I/O'
cpu\t'Processes close to the CPU count: requests mostly compute'"
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l kubeconfig -d 'Path to the kubeconfig file [default: $KUBECONFIG, else ~/.kube/config]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -s n -l namespace -d 'Namespace [default: the current context\'s]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l as -d 'Username to impersonate' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l request-timeout -d 'Timeout of each API request as a whole, e.g. 10s (0 means none) [default: 30s]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -s s -l server -d 'The API server URL, instead of the kubeconfig cluster\'s' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l certificate-authority -d 'A CA certificate file to check the server\'s certificate with' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l client-certificate -d 'A client certificate file for TLS' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l client-key -d 'The key file of --client-certificate' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l tls-server-name -d 'The server name to check the server\'s certificate against, instead of the URL\'s host' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -s v -l v -d 'Log level: 6 and above print one line per API request on stderr (method, URL, status, ms)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l all -d 'Tune every workload of TYPE in the namespace, e.g. `tune deploy --all`'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l list -d 'Print the container\'s environment (KEY=VALUE lines), as `oc set env --list` does'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l no-wait -d 'Do not wait for the rollout'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l local -d 'Edit manifests from -f instead of the cluster'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l in-place -d 'Write the edited manifests back to their files (with --local)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l recommend -d 'Suggest processes and threads from the container\'s resources'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l apply -d 'Apply the recommendation'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand tune" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l replicas -d 'The desired number of replicas' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l current-replicas -d 'Precondition: only scale if the current replica count is this' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l timeout -d 'How long to wait, e.g. 5m (0 waits forever)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l dry-run -d 'client: send nothing; server: send the change with dryRun=All. A bare --dry-run means client' -r -f -a "none\t''
client\t''
server\t''"
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -s o -l output -d 'Print the resulting Scale object (name: `deployment.apps/NAME`)' -r -f -a "yaml\t''
json\t''
name\t'`KIND.GROUP/NAME`, as kubectl\'s `-o name` (`deployment.apps/blog`)'"
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l kubeconfig -d 'Path to the kubeconfig file [default: $KUBECONFIG, else ~/.kube/config]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -s n -l namespace -d 'Namespace [default: the current context\'s]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l as -d 'Username to impersonate' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l request-timeout -d 'Timeout of each API request as a whole, e.g. 10s (0 means none) [default: 30s]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -s s -l server -d 'The API server URL, instead of the kubeconfig cluster\'s' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l certificate-authority -d 'A CA certificate file to check the server\'s certificate with' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l client-certificate -d 'A client certificate file for TLS' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l client-key -d 'The key file of --client-certificate' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l tls-server-name -d 'The server name to check the server\'s certificate against, instead of the URL\'s host' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -s v -l v -d 'Log level: 6 and above print one line per API request on stderr (method, URL, status, ms)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l no-wait -d 'Do not wait for the pods to be ready'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand scale" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l source -d 'Local directory to sync into the pod' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l dest -d 'Directory in the container [default: the container\'s WARPDRIVE_SRC_ROOT, else /opt/app-root/src]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -s c -l container -d 'The container [default: the default-container annotation, else the only one]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l exclude -d 'Gitignore-style pattern to leave out (repeatable). Always left out: .git, __pycache__, *.pyc, and the patterns of .warpdrive/sync-ignore (else .gitignore)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l timeout -d 'How long to wait for the rollout, e.g. 5m (0 waits forever)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l kubeconfig -d 'Path to the kubeconfig file [default: $KUBECONFIG, else ~/.kube/config]' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -s n -l namespace -d 'Namespace [default: the current context\'s]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l as -d 'Username to impersonate' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l request-timeout -d 'Timeout of each API request as a whole, e.g. 10s (0 means none) [default: 30s]' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -s s -l server -d 'The API server URL, instead of the kubeconfig cluster\'s' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l certificate-authority -d 'A CA certificate file to check the server\'s certificate with' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l client-certificate -d 'A client certificate file for TLS' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l client-key -d 'The key file of --client-certificate' -r -F
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l tls-server-name -d 'The server name to check the server\'s certificate against, instead of the URL\'s host' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -s v -l v -d 'Log level: 6 and above print one line per API request on stderr (method, URL, status, ms)' -r
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l watch -d 'Keep syncing changed files until Ctrl-C (changes are coalesced until 50 ms of quiet)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l delete -d 'Remove files in the pod that were deleted locally'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l no-sync -d 'Only switch reloading on; copy no files'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -l insecure-skip-tls-verify -d 'Do not check the server\'s certificate (insecure)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -s h -l help -d 'Print help'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand reload" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "exec" -d 'Start the app in the current directory on the right WSGI server (in the container)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "build" -d 'Build the app into the image: hooks, pip install, the server, collectstatic, the record (in the container)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "alive" -d 'Run the alive hook (a liveness probe); exit 0 with no hook'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "ready" -d 'Run the ready hook (a readiness probe); exit 0 with no hook'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "migrate" -d 'Run the migrate hook, else the Procfile release: command, else Django\'s migrate (unless DISABLE_MIGRATE)'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "setup" -d 'Run the setup hook (one-time setup of the app\'s data); exit 0 with no hook'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "verify" -d 'Run the verify hook (checks of a deployment); exit 0 with no hook'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "env" -d 'Print the runtime environment as shell-quoted `export NAME=VALUE` lines'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "shell" -d 'Start an interactive shell ($SHELL, else /bin/sh) with the runtime environment'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "init" -d 'Write the .warpdrive/ files that say how the app is served'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "tune" -d 'Set processes, threads and other MOD_WSGI_* knobs on Deployments, StatefulSets or DeploymentConfigs'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "scale" -d 'Change the replica count and wait until the pods are ready'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "reload" -d 'Turn live code reloading on or off and sync local code into the pod'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-warpdrive -n "__fish_kubectl_warpdrive_using_subcommand help; and not __fish_seen_subcommand_from exec build alive ready migrate setup verify env shell init tune scale reload completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
