"""The Python side of bench/peers/python.ts: serve benchmark cases over stdin/stdout.

A peer script defines its cases as functions taking the request's parameters and returning one
sample (a float), then calls serve(cases). Under mpirun (comm given), rank 0 reads each request
and hands it on to the other ranks (which sleep while they wait), every rank runs the case, and
rank 0 answers.
"""
import json
import sys
import time


# Tag of the requests rank 0 hands on to the other ranks.
_REQUEST_TAG = 77


def _next_request(comm):
    """The next request line on every rank, without busy-waiting for it.

    Open MPI's blocking calls poll without pause, so ranks waiting in a bcast would take a core
    from whatever the benchmark measures in between (our side of each interleaved pair). The
    other ranks sleep between probes instead, half a millisecond at first and backing off to
    20 ms: probing 2,000 times a second cost an idle rank 6% of a core, in wake-ups that landed
    on our ranks' cores and cut the threads 2D diffusion's efficiency from 78-86% to 68-72%.
    A request starts at most 20 ms late; samples time only the case itself.
    """
    if comm is None:
        return sys.stdin.readline()
    if comm.Get_rank() == 0:
        line = sys.stdin.readline()
        for r in range(1, comm.Get_size()):
            comm.send(line, dest=r, tag=_REQUEST_TAG)
        return line
    pause = 0.0005
    while not comm.Iprobe(source=0, tag=_REQUEST_TAG):
        time.sleep(pause)
        pause = min(0.02, pause * 1.5)
    return comm.recv(source=0, tag=_REQUEST_TAG)


def serve(cases, comm=None):
    root = comm is None or comm.Get_rank() == 0
    while True:
        line = _next_request(comm)
        if not line:
            return
        request = json.loads(line)
        name = request.pop("case")
        try:
            value = float(cases[name](**request))
            reply = {"value": value}
        except Exception as e:  # the benchmark reports it; the peer keeps serving
            reply = {"error": f"{type(e).__name__}: {e}"}
        if root:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
