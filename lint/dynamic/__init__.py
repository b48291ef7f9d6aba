"""`portlint verify`: the dynamic check (docs/verify.md).

Modules:

* `verify`    -- `verify(origin, port, VerifyOptions) -> VerifyResult`: compare, build both
                 models in workers, reconcile. Raises InputError / VerifyError (exit 2).
* `runner`    -- parent side: `run_worker(request, timeout=...)`, `run_workers(...)`.
                 Never imports a framework.
* `worker`    -- child side, `python -m portlint.dynamic.worker`: imports the framework and
                 the user's code, builds, runs the request's steps (`STEPS`). Its parts:
                 `failures` (error records), `sites` (the user's files, spans),
                 `loader` (import the file, call NAME(ARGS)), `building` (per-framework
                 builders), `counting` (the "count" step), `numeric` (the "numeric" step).
* `protocol`  -- the request/response format shared by both sides.
* `reconcile` -- static vs built counts per framework and across frameworks;
                 `count_findings` turns a side's mismatches into PTL704 findings.
* `plan`      -- `verify --numeric`'s request from the alignment; `numeric_answer` reads the
                 worker's answer against it; `mapping` (+ `mapping_helpers`,
                 `mapping_script`) the weight-transfer statements and --emit-mapping.
* `report`    -- text and JSON output.

Importing this package imports nothing heavy; only the worker process imports torch/keras.
"""
