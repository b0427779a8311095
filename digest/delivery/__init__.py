"""Delivering an edition: claim batches, send over a pool of connections, record outcomes.

Parts, each with one job: `claims` (leased batches and due retries), `worker` (one per
connection), `before_data` (the durable "sending" step before DATA), `recorder` (group
commit of outcomes and lease renewal), `outcomes` (the rows an outcome writes),
`breaker` (relay-wide refusals stop the run), `clock` (injected time), `classify` (the
three kinds of SMTP outcome), `options` (typed settings), `run` (wires them). This
package imports no other pipeline stage.
"""
