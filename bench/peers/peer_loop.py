"""The Python side of bench/peers/python.ts: serve benchmark cases over stdin/stdout.

A peer script defines its cases as functions taking the request's parameters and returning one
sample (a float), then calls serve(cases). Under mpirun (comm given), rank 0 reads each request
and broadcasts it, every rank runs the case, and rank 0 answers.
"""
import json
import sys


def serve(cases, comm=None):
    root = comm is None or comm.Get_rank() == 0
    while True:
        line = sys.stdin.readline() if root else None
        if comm is not None:
            line = comm.bcast(line, root=0)
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
