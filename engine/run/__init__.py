"""One run of a workflow, split along its seams (the API is
``engine.executor``: ``Engine`` and ``RunHandle``).

- ``graph``: the workflow as a graph — incoming/outgoing edges, ancestors,
  upstream, topological order, cycles (also used by ``engine.validate`` and
  the editor's document);
- ``scheduler``: the ready set — what arrived on each input, which nodes are
  ready, skipped for a missing value, planned by a partial run (pure,
  synchronous);
- ``config_render``: a node's config with its expressions evaluated, validated;
- ``attempts``: attempts and the retry policy — full-jitter backoff,
  Retry-After, per-attempt timeout, concurrency slots, ``on_error``;
- ``for_each``: a node run once per item;
- ``scope``: what a node's expressions can name;
- ``failures``: how a failed node's error is reported;
- ``loop``: the run loop tying them together, from ``RunStarted`` to
  ``RunFinished``.
"""
