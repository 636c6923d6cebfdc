"""mpi4py peer of bench/comm: the same cases as bench/comm/ranks.ts, the lectures' way.

Run under `mpirun -np 2` by bench/comm/index.ts through peer_loop.serve. Every case returns one
sample from rank 0: the best batch of a few (as our side does), in seconds.
"""
import time

import numpy as np
from mpi4py import MPI

from peer_loop import serve

comm = MPI.COMM_WORLD
rank = comm.Get_rank()


def ping_pong(bytes, iters, batches):
    buf = np.zeros(bytes, dtype=np.uint8)

    def trip(n):
        for _ in range(n):
            if rank == 0:
                comm.Send(buf, dest=1, tag=0)
                comm.Recv(buf, source=1, tag=0)
            else:
                comm.Recv(buf, source=0, tag=0)
                comm.Send(buf, dest=0, tag=0)

    trip(iters)  # warm-up, as ours
    best = float("inf")
    for _ in range(batches):
        comm.Barrier()
        t0 = time.perf_counter()
        trip(iters)
        best = min(best, (time.perf_counter() - t0) / iters)
    return best


def allreduce(iters, batches):
    send = np.array([rank + 0.5])
    recv = np.zeros(1)
    for _ in range(iters):
        comm.Allreduce(send, recv, op=MPI.SUM)
    best = float("inf")
    for _ in range(batches):
        comm.Barrier()
        t0 = time.perf_counter()
        for _ in range(iters):
            comm.Allreduce(send, recv, op=MPI.SUM)
        best = min(best, (time.perf_counter() - t0) / iters)
    return best


def ftcs(C, alpha):
    # The lecture's FTCS update of the interior, vectorised with NumPy.
    C[1:-1, 1:-1] = C[1:-1, 1:-1] + alpha * (C[2:, 1:-1] + C[:-2, 1:-1] + C[1:-1, 2:] + C[1:-1, :-2] - 4 * C[1:-1, 1:-1])


def diffusion(Nx, Ny, Nt, np_ranks, warmup=0):
    """The lecture's 2D diffusion split along x with halo rows; np_ranks 1 runs on rank 0 alone.

    Times Nt steps after `warmup` untimed ones, as ours does."""
    world = comm if np_ranks == comm.Get_size() else comm.Split(0 if rank < np_ranks else MPI.UNDEFINED, rank)
    if world == MPI.COMM_NULL:
        comm.Barrier()
        return 0.0
    r, size = world.Get_rank(), world.Get_size()
    xc, dx = np.linspace(0, 2, Nx, retstep=True)
    yc = np.linspace(0, 1, Ny)
    alpha = 0.0009 * 0.001 / dx**2
    cells = Nx // size
    first = 0 if r == 0 else r * cells - 1
    end = Nx if r == size - 1 else (r + 1) * cells + 1
    gy, gx = np.meshgrid(yc, xc[first:end])
    C = np.exp(-((gx - 1.0) ** 2) / (2 * 0.05**2) - (gy - 0.5) ** 2 / (2 * 0.05**2))

    def steps(n):
        for _ in range(n):
            ftcs(C, alpha)
            if size > 1:
                reqs = []
                if r > 0:
                    reqs.append(world.Irecv(C[0, :], source=r - 1))
                if r < size - 1:
                    reqs.append(world.Irecv(C[-1, :], source=r + 1))
                if r > 0:
                    world.Send(C[1, :].copy(), dest=r - 1)
                if r < size - 1:
                    world.Send(C[-2, :].copy(), dest=r + 1)
                MPI.Request.Waitall(reqs)

    steps(warmup)
    world.Barrier()
    t0 = time.perf_counter()
    steps(Nt)
    world.Barrier()
    seconds = time.perf_counter() - t0
    if world is not comm:
        world.Free()
    comm.Barrier()
    return seconds


if __name__ == "__main__":
    serve({"ping_pong": ping_pong, "allreduce": allreduce, "diffusion": diffusion}, comm)
