
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-warpdrive' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-warpdrive'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kubectl-warpdrive' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Start the app in the current directory on the right WSGI server (in the container)')
            [CompletionResult]::new('build', 'build', [CompletionResultType]::ParameterValue, 'Build the app into the image: hooks, pip install, the server, collectstatic, the record (in the container)')
            [CompletionResult]::new('alive', 'alive', [CompletionResultType]::ParameterValue, 'Run the alive hook (a liveness probe); exit 0 with no hook')
            [CompletionResult]::new('ready', 'ready', [CompletionResultType]::ParameterValue, 'Run the ready hook (a readiness probe); exit 0 with no hook')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Run the migrate hook, else the Procfile release: command, else Django''s migrate (unless DISABLE_MIGRATE)')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Run the setup hook (one-time setup of the app''s data); exit 0 with no hook')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Run the verify hook (checks of a deployment); exit 0 with no hook')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Print the runtime environment as shell-quoted `export NAME=VALUE` lines')
            [CompletionResult]::new('shell', 'shell', [CompletionResultType]::ParameterValue, 'Start an interactive shell ($SHELL, else /bin/sh) with the runtime environment')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write the .warpdrive/ files that say how the app is served')
            [CompletionResult]::new('tune', 'tune', [CompletionResultType]::ParameterValue, 'Set processes, threads and other MOD_WSGI_* knobs on Deployments, StatefulSets or DeploymentConfigs')
            [CompletionResult]::new('scale', 'scale', [CompletionResultType]::ParameterValue, 'Change the replica count and wait until the pods are ready')
            [CompletionResult]::new('reload', 'reload', [CompletionResultType]::ParameterValue, 'Turn live code reloading on or off and sync local code into the pod')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-warpdrive;exec' {
            [CompletionResult]::new('--app-root', '--app-root', [CompletionResultType]::ParameterName, 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format for --dry-run')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for --dry-run')
            [CompletionResult]::new('--server-type', '--server-type', [CompletionResultType]::ParameterName, 'Server type (auto, shell, python, paste, django, gunicorn, mod_wsgi, waitress, uwsgi, uvicorn) [default: $WARPDRIVE_SERVER_TYPE, else .warpdrive/server_type, else auto]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the command that would run and start nothing')
            [CompletionResult]::new('--supervise', '--supervise', [CompletionResultType]::ParameterName, 'Stay as a supervisor (signal forwarding, zombie reaping) even when not PID 1')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;build' {
            [CompletionResult]::new('--app-root', '--app-root', [CompletionResultType]::ParameterName, 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;alive' {
            [CompletionResult]::new('--app-root', '--app-root', [CompletionResultType]::ParameterName, 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;ready' {
            [CompletionResult]::new('--app-root', '--app-root', [CompletionResultType]::ParameterName, 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;migrate' {
            [CompletionResult]::new('--app-root', '--app-root', [CompletionResultType]::ParameterName, 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;setup' {
            [CompletionResult]::new('--app-root', '--app-root', [CompletionResultType]::ParameterName, 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;verify' {
            [CompletionResult]::new('--app-root', '--app-root', [CompletionResultType]::ParameterName, 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;env' {
            [CompletionResult]::new('--app-root', '--app-root', [CompletionResultType]::ParameterName, 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;shell' {
            [CompletionResult]::new('--app-root', '--app-root', [CompletionResultType]::ParameterName, 'The application directory [default: $WARPDRIVE_SRC_ROOT, else the current directory]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;init' {
            [CompletionResult]::new('--app-root', '--app-root', [CompletionResultType]::ParameterName, 'The application directory')
            [CompletionResult]::new('--entry-point', '--entry-point', [CompletionResultType]::ParameterName, 'WSGI entry point to record: `module:callable`, a factory `module:create_app()` or a dotted module [default: Django''s WSGI_APPLICATION, else the callable wsgi.py defines]')
            [CompletionResult]::new('--static-url', '--static-url', [CompletionResultType]::ParameterName, 'URL under which static files are served, e.g. /static/ [default: Django''s STATIC_URL]')
            [CompletionResult]::new('--static-root', '--static-root', [CompletionResultType]::ParameterName, 'Directory of the static files, inside the app [default: Django''s STATIC_ROOT]')
            [CompletionResult]::new('--trust-proxy-header', '--trust-proxy-header', [CompletionResultType]::ParameterName, 'Proxy header to trust (repeatable): X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Port, X-Forwarded-Proto, X-Forwarded-Scheme, Forwarded')
            [CompletionResult]::new('--processes', '--processes', [CompletionResultType]::ParameterName, 'Pin the process count in server_args (--workers for gunicorn) [default: leave it to MOD_WSGI_PROCESSES]')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Pin the thread count in server_args [default: leave it to MOD_WSGI_THREADS]')
            [CompletionResult]::new('--server-type', '--server-type', [CompletionResultType]::ParameterName, 'Server type to write to .warpdrive/server_type (auto, shell, python, paste, django, gunicorn, mod_wsgi, waitress, uwsgi, uvicorn) [default: the detected one]')
            [CompletionResult]::new('--no-static', '--no-static', [CompletionResultType]::ParameterName, 'Do not serve static files')
            [CompletionResult]::new('--no-proxy-headers', '--no-proxy-headers', [CompletionResultType]::ParameterName, 'Trust no proxy headers')
            [CompletionResult]::new('--deploy-hook', '--deploy-hook', [CompletionResultType]::ParameterName, 'Also write a commented .warpdrive/action_hooks/deploy skeleton')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Accept the detected defaults for every question not given as a flag')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Accept the detected defaults for every question not given as a flag')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite existing files without asking')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the files that would be written and write nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;tune' {
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Tune every workload of TYPE whose labels match, e.g. `tune deploy -l app=shop`')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Tune every workload of TYPE whose labels match, e.g. `tune deploy -l app=shop`')
            [CompletionResult]::new('--processes', '--processes', [CompletionResultType]::ParameterName, 'MOD_WSGI_PROCESSES')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'MOD_WSGI_THREADS')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set any MOD_WSGI_* variable (repeatable)')
            [CompletionResult]::new('--unset', '--unset', [CompletionResultType]::ParameterName, 'Remove a MOD_WSGI_* variable (repeatable)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The container [default: the default-container annotation, else the only one]')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'The container [default: the default-container annotation, else the only one]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'client: send nothing; server: send the patch with dryRun=All. A bare --dry-run means client')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Print the resulting object (name: `deployment.apps/NAME`)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Print the resulting object (name: `deployment.apps/NAME`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the rollouts, e.g. 5m (0 waits forever)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Manifest file, directory, or - for stdin (with --local)')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Manifest file, directory, or - for stdin (with --local)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Workload profile for --recommend')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file [default: $KUBECONFIG, else ~/.kube/config]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: the current context''s]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: the current context''s]')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Timeout of each API request as a whole, e.g. 10s (0 means none) [default: 30s]')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server URL, instead of the kubeconfig cluster''s')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server URL, instead of the kubeconfig cluster''s')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server, instead of the kubeconfig user''s credentials')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file to check the server''s certificate with')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'A client certificate file for TLS')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The key file of --client-certificate')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The server name to check the server''s certificate against, instead of the URL''s host')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level: 6 and above print one line per API request on stderr (method, URL, status, ms)')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level: 6 and above print one line per API request on stderr (method, URL, status, ms)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Tune every workload of TYPE in the namespace, e.g. `tune deploy --all`')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'Print the container''s environment (KEY=VALUE lines), as `oc set env --list` does')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Do not wait for the rollout')
            [CompletionResult]::new('--local', '--local', [CompletionResultType]::ParameterName, 'Edit manifests from -f instead of the cluster')
            [CompletionResult]::new('--in-place', '--in-place', [CompletionResultType]::ParameterName, 'Write the edited manifests back to their files (with --local)')
            [CompletionResult]::new('--recommend', '--recommend', [CompletionResultType]::ParameterName, 'Suggest processes and threads from the container''s resources')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Apply the recommendation')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not check the server''s certificate (insecure)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;scale' {
            [CompletionResult]::new('--replicas', '--replicas', [CompletionResultType]::ParameterName, 'The desired number of replicas')
            [CompletionResult]::new('--current-replicas', '--current-replicas', [CompletionResultType]::ParameterName, 'Precondition: only scale if the current replica count is this')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait, e.g. 5m (0 waits forever)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'client: send nothing; server: send the change with dryRun=All. A bare --dry-run means client')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Print the resulting Scale object (name: `deployment.apps/NAME`)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Print the resulting Scale object (name: `deployment.apps/NAME`)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file [default: $KUBECONFIG, else ~/.kube/config]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: the current context''s]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: the current context''s]')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Timeout of each API request as a whole, e.g. 10s (0 means none) [default: 30s]')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server URL, instead of the kubeconfig cluster''s')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server URL, instead of the kubeconfig cluster''s')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server, instead of the kubeconfig user''s credentials')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file to check the server''s certificate with')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'A client certificate file for TLS')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The key file of --client-certificate')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The server name to check the server''s certificate against, instead of the URL''s host')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level: 6 and above print one line per API request on stderr (method, URL, status, ms)')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level: 6 and above print one line per API request on stderr (method, URL, status, ms)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Do not wait for the pods to be ready')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not check the server''s certificate (insecure)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;reload' {
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Local directory to sync into the pod')
            [CompletionResult]::new('--dest', '--dest', [CompletionResultType]::ParameterName, 'Directory in the container [default: the container''s WARPDRIVE_SRC_ROOT, else /opt/app-root/src]')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The container [default: the default-container annotation, else the only one]')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'The container [default: the default-container annotation, else the only one]')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Gitignore-style pattern to leave out (repeatable). Always left out: .git, __pycache__, *.pyc, and the patterns of .warpdrive/sync-ignore (else .gitignore)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the rollout, e.g. 5m (0 waits forever)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file [default: $KUBECONFIG, else ~/.kube/config]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The kubeconfig user to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: the current context''s]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: the current context''s]')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Timeout of each API request as a whole, e.g. 10s (0 means none) [default: 30s]')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server URL, instead of the kubeconfig cluster''s')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server URL, instead of the kubeconfig cluster''s')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server, instead of the kubeconfig user''s credentials')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file to check the server''s certificate with')
            [CompletionResult]::new('--client-certificate', '--client-certificate', [CompletionResultType]::ParameterName, 'A client certificate file for TLS')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The key file of --client-certificate')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'The server name to check the server''s certificate against, instead of the URL''s host')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log level: 6 and above print one line per API request on stderr (method, URL, status, ms)')
            [CompletionResult]::new('--v', '--v', [CompletionResultType]::ParameterName, 'Log level: 6 and above print one line per API request on stderr (method, URL, status, ms)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Keep syncing changed files until Ctrl-C (changes are coalesced until 50 ms of quiet)')
            [CompletionResult]::new('--delete', '--delete', [CompletionResultType]::ParameterName, 'Remove files in the pod that were deleted locally')
            [CompletionResult]::new('--no-sync', '--no-sync', [CompletionResultType]::ParameterName, 'Only switch reloading on; copy no files')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not check the server''s certificate (insecure)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;completion' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-warpdrive;help' {
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Start the app in the current directory on the right WSGI server (in the container)')
            [CompletionResult]::new('build', 'build', [CompletionResultType]::ParameterValue, 'Build the app into the image: hooks, pip install, the server, collectstatic, the record (in the container)')
            [CompletionResult]::new('alive', 'alive', [CompletionResultType]::ParameterValue, 'Run the alive hook (a liveness probe); exit 0 with no hook')
            [CompletionResult]::new('ready', 'ready', [CompletionResultType]::ParameterValue, 'Run the ready hook (a readiness probe); exit 0 with no hook')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Run the migrate hook, else the Procfile release: command, else Django''s migrate (unless DISABLE_MIGRATE)')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Run the setup hook (one-time setup of the app''s data); exit 0 with no hook')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Run the verify hook (checks of a deployment); exit 0 with no hook')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Print the runtime environment as shell-quoted `export NAME=VALUE` lines')
            [CompletionResult]::new('shell', 'shell', [CompletionResultType]::ParameterValue, 'Start an interactive shell ($SHELL, else /bin/sh) with the runtime environment')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write the .warpdrive/ files that say how the app is served')
            [CompletionResult]::new('tune', 'tune', [CompletionResultType]::ParameterValue, 'Set processes, threads and other MOD_WSGI_* knobs on Deployments, StatefulSets or DeploymentConfigs')
            [CompletionResult]::new('scale', 'scale', [CompletionResultType]::ParameterValue, 'Change the replica count and wait until the pods are ready')
            [CompletionResult]::new('reload', 'reload', [CompletionResultType]::ParameterValue, 'Turn live code reloading on or off and sync local code into the pod')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-warpdrive;help;exec' {
            break
        }
        'kubectl-warpdrive;help;build' {
            break
        }
        'kubectl-warpdrive;help;alive' {
            break
        }
        'kubectl-warpdrive;help;ready' {
            break
        }
        'kubectl-warpdrive;help;migrate' {
            break
        }
        'kubectl-warpdrive;help;setup' {
            break
        }
        'kubectl-warpdrive;help;verify' {
            break
        }
        'kubectl-warpdrive;help;env' {
            break
        }
        'kubectl-warpdrive;help;shell' {
            break
        }
        'kubectl-warpdrive;help;init' {
            break
        }
        'kubectl-warpdrive;help;tune' {
            break
        }
        'kubectl-warpdrive;help;scale' {
            break
        }
        'kubectl-warpdrive;help;reload' {
            break
        }
        'kubectl-warpdrive;help;completion' {
            break
        }
        'kubectl-warpdrive;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
