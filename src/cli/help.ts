/** Help texts: every command and flag, with examples. Kept as data so tests can check them. */
export const MAIN_HELP = `conclave — run typed multi-agent graphs from the command line

Usage:
  conclave run "<task>" [options]   Run a graph on a task and print the answer
  conclave run --thread ID          Resume a thread from its last checkpoint (after a crash or failure)
  conclave runs [--status S]        List threads: running, interrupted, done, failed
  conclave pending                  List the approvals paused runs wait for
  conclave approve THREAD [--edit JSON] [--id ID]   Approve (or edit) and continue the run
  conclave reject THREAD --reason "…" [--id ID]      Refuse and continue the run without it
  conclave inspect THREAD           Checkpoint history: step, nodes, round, state changes
  conclave fork THREAD --at CP      Continue from an earlier checkpoint (optionally --model NAME)
  conclave metrics                  Prometheus metrics of the runs kept in this workspace
  conclave audit verify             Check the audit log's hash chain
  conclave eval list | run SUITE | compare A.json B.json   Eval suites, reports and the CI gate
  conclave graphs                   List the registered graphs
  conclave config [--json]          Show the effective configuration and where each value comes from
  conclave dlq list|show|replay|drop  The runs that failed for good, and replaying them
  conclave doctor [--json]          Check providers (reachability, latency), breakers, cache and folders
  conclave keys create|list|revoke  API keys for conclave serve (scopes, rate limits, quotas)
  conclave serve --port N           The HTTP service: start runs, follow events (SSE), decide approvals
  conclave worker --concurrency N   Execute runs from a Redis (BullMQ) queue with PostgreSQL checkpoints
  conclave help [command]           Show help for a command

Options for every command:
  --config FILE     Config file (default: conclave.config.ts or conclave.config.json)
  -h, --help        Show help
  -v, --version     Show the version

With no provider configured, Conclave uses its built-in offline model: deterministic, no network,
answering only from tool results. Point it at a real model with:
  OPENAI_API_KEY=sk-...                                      (OpenAI)
  OPENAI_BASE_URL=http://127.0.0.1:11434/v1 CONCLAVE_MODEL=llama3.1   (Ollama, vLLM, llama.cpp, ...)

Runs are checkpointed to .conclave/checkpoints.sqlite (checkpoint.backend: sqlite, postgres with
DATABASE_URL, or memory). Logs go to .conclave/conclave.log, the audit log to .conclave/audit.jsonl;
traces are exported only when OTEL_EXPORTER_OTLP_ENDPOINT is set. API keys come from the
environment or .conclave/secrets.env, and are redacted everywhere.

Exit codes: 0 success, 1 the run failed, 2 bad usage or configuration, 3 paused for approval.`;

export const RUN_HELP = `conclave run — run a graph on a task

Usage:
  conclave run "<task>" [options]

Options:
  --graph NAME        Graph to run (default: "defaultGraph" in the config, else the first registered)
  --model NAME        Model name for the provider (env CONCLAVE_MODEL)
  --provider NAME     offline | openai | auto (env CONCLAVE_PROVIDER; auto = openai when a base URL or key is set)
  --base-url URL      OpenAI-compatible endpoint (env OPENAI_BASE_URL)
  --corpus DIR        Folder of .md/.txt files for the retrieve tool (default: the bundled corpus)
  --thread ID         Thread id for a new run (default: a new one); with no task, resume that thread
  --checkpoint KIND   sqlite (default, .conclave/checkpoints.sqlite) | postgres (DATABASE_URL) | memory
  --approve-answer    Pause for a human's approval of the final answer (conclave approve/reject)
  --record FILE       Record every model and tool call to a cassette (secrets redacted)
  --replay FILE       Rerun from a cassette: no network, identical output; fails naming the first
                      request that drifted from the recording
  --log-level LEVEL   off | debug | info (default) | warn | error; logs go to log.file
                      (default .conclave/conclave.log, "-" for stderr)
  --step-limit N      Most graph steps before the run stops (default: derived from the agents' maxSteps)
  --max-rounds N      Most critique or debate rounds (graphs that have rounds)
  --agents N          How many agents take part (e.g. debate solvers, at least 2)
  --aggregate HOW     How a debate ends without consensus: majority (default) or judge
  --max-model-calls N Budget: most model calls in the run; it then ends with its best answer
  --max-tokens N      Budget: most tokens in the run; it then ends with its best answer
  --max-cost USD      Budget: most USD spent on model calls (priced by "pricing" in the config)
  --max-time SECONDS  Budget: no model call starts after this much wall time (a graceful stop)
  --timeout SECONDS   Hard limit: cancel everything in flight and fail after this long
  --cache BACKEND     Response cache: off (default), memory, sqlite (.conclave/cache.sqlite) or redis (REDIS_URL)
  --json              Print one JSON object: answer, citations, graph, model, threadId, usage
  --verbose           Show every node and model call, and stacks on errors
  --quiet             No progress output on stderr

Progress goes to stderr, the answer to stdout. A run paused for approval prints what it waits
for and exits 3. Killed mid-run, it resumes where it stopped: conclave run --thread ID.

Examples:
  conclave run "What is 17 * 23 + 4?"
  conclave run --thread t1 "Who discovered penicillin?"   then, after a crash: conclave run --thread t1
  conclave run --record c.json --json "When did Apollo 11 land?"   and offline: conclave run --replay c.json --json "When did Apollo 11 land?"
  conclave run --json "When did Apollo 11 land on the Moon?"
  OPENAI_BASE_URL=http://127.0.0.1:8000/v1 conclave run --model qwen2.5 "Summarise HNSW"`;

export const GRAPHS_HELP = `conclave graphs — list the registered graphs

Graphs are registered in the "graphs" map of langgraph.json (name → "./file.ts:export") and of
conclave.config.json. Each entry is a compiled LangGraph graph or a defineGraph() definition.

Usage:
  conclave graphs [--json]`;

export const CONFIG_HELP = `conclave config — show the effective configuration

Settings are read from the schema defaults, then the config file, then environment variables,
then command-line flags; each later layer overrides the earlier. Secrets are redacted.

Usage:
  conclave config [--json] [--config FILE]

Environment variables:
  OPENAI_API_KEY, OPENAI_BASE_URL, CONCLAVE_PROVIDER, CONCLAVE_MODEL, CONCLAVE_TEMPERATURE,
  CONCLAVE_TIMEOUT_MS, CONCLAVE_MAX_RETRIES, CONCLAVE_EMBEDDINGS_PROVIDER, CONCLAVE_EMBEDDINGS_MODEL,
  CONCLAVE_EMBEDDINGS_BASE_URL, CONCLAVE_GRAPH, CONCLAVE_CORPUS, CONCLAVE_WORKSPACE, CONCLAVE_CONFIG`;

export const DLQ_HELP = `conclave dlq — the dead-letter queue

A run that fails for good at the provider (retries spent, circuit open, timeouts) is kept in
.conclave/dlq.sqlite with its task, flags, error, attempts and run id, so nothing is lost.

Usage:
  conclave dlq list [--status dead|replayed] [--json]
  conclave dlq show ID
  conclave dlq replay ID        Run it again with its original flags; marks it replayed on success
                                (refused if another model would answer, unless --any-model)
  conclave dlq replay --all     Replay every dead letter
  conclave dlq drop ID

With --queue bullmq (REDIS_URL, DATABASE_URL; --queue-name, --prefix as for conclave worker), the
same actions work on the worker queue's failed set: runs that failed, and jobs that stalled more
often than allowed. replay queues the run again; a worker resumes it from its last checkpoint.`;

export const DOCTOR_HELP = `conclave doctor — check that a run can work

Checks the configuration, each configured model (the primary and fallbacks: reachability and
latency of its endpoint, and its circuit breaker), the embeddings, the cache backend, the corpus
and workspace folders, and the dead-letter queue. Exits 1 when a check fails.

Usage:
  conclave doctor [--json] [--config FILE]`;

export const RUNS_HELP = `conclave runs — the threads of this workspace

Usage:
  conclave runs [--status running|interrupted|done|failed] [--limit N] [--json]

A thread whose process died mid-run shows as failed; resume it with conclave run --thread ID.`;

export const PENDING_HELP = `conclave pending — approvals that paused runs wait for

Usage:
  conclave pending [--json]

Tools defined with requiresApproval, and final answers under --approve-answer, pause the run.`;

export const APPROVE_HELP = `conclave approve — approve pending approvals of a thread and continue it

Usage:
  conclave approve THREAD [--id ID ...] [--edit JSON] [--as NAME] [--json]

Without --id, every pending approval of the thread is approved. --edit replaces the tool's
arguments (a JSON object, checked against its schema) or the final answer (a JSON string), for
one approval. The decision and who made it (--as, CONCLAVE_ACTOR or the OS user) go to the audit log.`;

export const REJECT_HELP = `conclave reject — refuse pending approvals of a thread and continue it

Usage:
  conclave reject THREAD --reason "why" [--id ID ...] [--as NAME] [--json]

The model is told the call was refused and why; a refused final answer ends the run unapproved.`;

export const INSPECT_HELP = `conclave inspect — a thread's checkpoint history

Usage:
  conclave inspect THREAD [--json]

One line per checkpoint (id, step, the nodes that ran, round, what runs next) and what each step
changed in the state. Fork from any of them with conclave fork THREAD --at CHECKPOINT.`;

export const FORK_HELP = `conclave fork — continue a thread from an earlier checkpoint

Usage:
  conclave fork THREAD --at CHECKPOINT [--model NAME] [--base-url URL] [--provider NAME] [--json]

The steps after the checkpoint run again (with another model, if given); the original history
stays in the thread and conclave inspect shows both. CHECKPOINT may be a unique prefix.`;

export const METRICS_HELP = `conclave metrics — Prometheus metrics of this workspace's runs

Usage:
  conclave metrics

Request volume, latency histograms, errors, tokens and cost per model / agent / graph, cache hit
rate and breaker state, in the Prometheus text format, from the events of every kept run.`;

export const AUDIT_HELP = `conclave audit — the append-only audit log

Usage:
  conclave audit verify [--file PATH] [--json]

Every line (side-effecting tool calls, approvals, configuration changes, data read) carries the
hash of the line before it; verify recomputes the chain and names the first line that was edited,
removed or reordered (exit 1).`;

export const EVAL_HELP = `conclave eval — run eval suites, compare runs, gate CI

Usage:
  conclave eval list [--json]
  conclave eval run SUITE... [options]     (or --all: every registered suite)
  conclave eval compare A.json B.json [--level 0.05] [--metric SCORER] [--json]

Run options:
  --gate              Exit 1 when a threshold is missed, samples error, or the --baseline is
                      significantly better (paired test)
  --out DIR           Write SUITE[.VARIANT].json (versioned), .xml (JUnit) and .html reports
  --variant NAME      Run one variant (default: every variant, with an equal-compute table)
  --epochs N          Attempts per sample (default: the suite's)
  --limit N           Only the first N samples
  --concurrency N     Samples in flight (default evals.concurrency, 4)
  --seed N            Seed for bootstraps and judges' order (default 0)
  --record DIR        Record every model and tool call: DIR/SUITE/VARIANT/SAMPLE.EPOCH.json
  --replay DIR        Rerun from those cassettes: no network, identical scores
  --baseline PATH     A stored report to gate regressions against, or a folder of them
                      (SUITE[.VARIANT].json, as --out writes them)
  --max-cost USD      Stop starting samples once the run has cost this much
  --judge MODEL       A judge model for model-graded scorers (repeat for a panel; default evals.judges)
  --model NAME, --base-url URL, --provider NAME, --cache BACKEND   as for conclave run
  --json              Print the report as JSON instead of the table

Suites are registered in the "suites" map of conclave.config.json ("name": "./file.ts:export").
A suite that needs a real model says so and exits 0 when only the offline model is configured.

Examples:
  conclave eval run arithmetic-tools --gate --out reports/
  conclave eval compare reports/before.json reports/arithmetic-tools.json`;

export const KEYS_HELP = `conclave keys — API keys for conclave serve

Keys are kept as SHA-256 hashes only: a new key is printed once, as the last line of stdout, and
cannot be shown again. By default they are in <stateDir>/keys.sqlite (default .conclave/keys.sqlite),
which only the servers on this machine read. With --store postgres they are in the PostgreSQL
database in DATABASE_URL, which every "conclave serve --queue bullmq" on every machine reads: a key
created or revoked there counts on all of them at once.

Usage:
  conclave keys create --name N --scopes run,approve,admin [--rpm N] [--quota N] [--store sqlite|postgres]
                                Scopes: run (start runs), approve (decide approvals), admin (all).
                                --rpm: requests per minute; --quota: total requests allowed
  conclave keys list [--json]   Ids, names, scopes, limits and status; never the keys
  conclave keys revoke ID       Refuse the key from now on
    --store         sqlite (default; this machine) or postgres (needs DATABASE_URL; shared by
                    every server). Default: CONCLAVE_KEY_STORE, else sqlite

Example:
  KEY=$(conclave keys create --name ci --scopes run --rpm 60 | tail -n 1)
  DATABASE_URL=postgres://… conclave keys create --name ci --scopes run --store postgres | tail -n 1`;

export const SERVE_HELP = `conclave serve — the HTTP service

With --queue local (the default), runs execute in this process (--concurrency at once, default 4)
with the workspace's checkpointer, effect ledger, redaction, logs and audit log, so a run started
over HTTP is a thread like any other ("conclave runs", "conclave inspect"). Ctrl-C or SIGTERM stops
accepting requests and gives running runs --grace seconds; those still running resume from their
last checkpoint on the next start.

With --queue bullmq, runs go to the BullMQ queue in REDIS_URL and "conclave worker" processes
execute them on the PostgreSQL checkpoints in DATABASE_URL. Run events, API-key limits and webhook
replay caches are kept in Redis, so several servers can share one queue behind a load balancer.

API keys ("conclave keys") are required once one is active. They are read from <stateDir>/keys.sqlite
with --queue local, and from PostgreSQL (DATABASE_URL; create them with "conclave keys create
--store postgres") with --queue bullmq, so every server on every machine accepts the same keys and
refuses a revoked one from the next request on.

Usage:
  conclave serve [--port N] [--host 127.0.0.1] [--queue local|bullmq] [--key-store sqlite|postgres] [--concurrency N] [--grace SECONDS] [--quiet]
    --port          Port (default: PORT or 8080; 0 picks a free one)
    --host          Address to bind (default 127.0.0.1: only this machine)
    --queue         local (default; CONCLAVE_SERVE_QUEUE) or bullmq (needs REDIS_URL and DATABASE_URL)
    --queue-name    With bullmq: the queue name (default: CONCLAVE_QUEUE or conclave-runs)
    --prefix        With bullmq: the Redis key prefix (default: CONCLAVE_QUEUE_PREFIX or conclave)
    --key-store     Where API keys are read: sqlite or postgres (default: CONCLAVE_KEY_STORE, else
                    postgres with --queue bullmq and sqlite with --queue local)
    --quiet         No request or poller log on stderr

Routes (GET /openapi.json describes them):
  POST /runs {input, graph?, idempotencyKey?, callbackUrl?}   GET /runs   GET /runs/:id
  GET /runs/:id/events (Server-Sent Events; resume with Last-Event-ID)   POST /runs/:id/cancel
  GET /approvals   POST /runs/:id/approve {interruptId?, edit?}   POST /runs/:id/reject {interruptId?, reason}
  GET /graphs   GET /health   GET /ready   GET /metrics (Prometheus)   POST /webhooks/:source (signed)
  GET /dead-letters   POST /dead-letters/:runId/retry   (with --queue bullmq: the queue's failed runs)

Polling sources (the "pollers" list in conclave.config.json) turn new and edited files in a folder,
or new and changed items of a JSON feed over HTTP, into runs: each item version starts one run (its
idempotency key is poll:<source>:<item>:<content hash>), on the poller's "graph", else defaultGraph,
else the first registered graph. What was submitted is kept in <stateDir>/pollers.json, so a restart
does not submit unchanged items again. Folder paths are relative to the workspace. Each poll that
submits or fails logs one line ("conclave serve: poller inbox: ..."; none with --quiet).
  { "pollers": [
      { "type": "folder", "name": "inbox", "path": "inbox", "suffixes": [".md", ".txt"], "intervalMs": 30000, "minAgeMs": 1000 },
      { "type": "http-json", "name": "feed", "url": "https://example.com/feed.json", "itemsPath": "items",
        "idField": "id", "inputField": "{{title}}: {{body}}", "cursorParam": "since", "graph": "research" } ] }

Example:
  conclave serve --port 8080 &
  curl -s localhost:8080/runs -H 'content-type: application/json' -d '{"input":"What is LangGraph?"}'`;

export const WORKER_HELP = `conclave worker — execute runs from a Redis (BullMQ) queue

Takes runs from the queue in REDIS_URL and executes them like "conclave serve" does, with the
PostgreSQL checkpointer in DATABASE_URL (checkpoint.backend is forced to "postgres"), so any worker
can continue any run. A job whose worker died is picked up by another worker once its lock expires
(stall detection) and resumes from its thread's last checkpoint. Run records are kept in the
PostgreSQL table conclave_service_runs. Ctrl-C or SIGTERM stops taking jobs and waits for running ones.

Usage:
  conclave worker [--concurrency N] [--queue-name NAME] [--prefix PREFIX] [--quiet]
    --concurrency   Runs at once in this process (default 1)
    --queue-name    BullMQ queue name (default: CONCLAVE_QUEUE or conclave-runs)
    --prefix        Redis key prefix (default: CONCLAVE_QUEUE_PREFIX or conclave)

Each run's events and status changes are published on Redis streams (<prefix>:<queue>:conclave:events for
every run, <prefix>:<queue>:conclave:events:<run id> for one), which "conclave serve --queue bullmq" streams
over SSE and counts in /metrics; other services may XREAD them too. With CONCLAVE_WEBHOOK_SECRET set,
the worker sends each run's signed run.<status> notification to its callbackUrl.

Environment:
  REDIS_URL, DATABASE_URL (both required); CONCLAVE_WORKER_STALLED_MS (stall check interval,
  default 30000; the job lock lasts twice it); CONCLAVE_WORKER_MAX_STALLED (default 3).
  Graph nodes must not block the event loop for long: the job lock is renewed from it.

Example:
  REDIS_URL=redis://127.0.0.1:6379 DATABASE_URL=postgres://user@127.0.0.1:5432/conclave conclave worker --concurrency 4`;

export const COMMAND_HELP: Record<string, string> = { eval: EVAL_HELP, runs: RUNS_HELP, pending: PENDING_HELP, approve: APPROVE_HELP, reject: REJECT_HELP, inspect: INSPECT_HELP, fork: FORK_HELP, metrics: METRICS_HELP, audit: AUDIT_HELP, run: RUN_HELP, graphs: GRAPHS_HELP, config: CONFIG_HELP, dlq: DLQ_HELP, doctor: DOCTOR_HELP, keys: KEYS_HELP, serve: SERVE_HELP, worker: WORKER_HELP };
