"""Numba peer of bench/parallel: the lecture's prange Simpson integrator and 1D diffusion.

Served over stdin/stdout by peer_loop.serve (see bench/peers/python.ts). Start it with
NUMBA_NUM_THREADS set to the most threads a case asks for; each case sets its own count with
numba.set_num_threads. A sample is the wall-clock seconds of one call, compiled beforehand.
"""
import time

import numba as nb
import numpy as np

from peer_loop import serve


@nb.njit(parallel=True)
def integrate_exp(x0, x1, dx):
    n = int((x1 - x0) / dx)
    n = n + ((n & 1) ^ 1)
    dx = (x1 - x0) / (n - 1)
    tot = 0.0
    for i in nb.prange(1, n - 1):
        tot = tot + (2 + 2 * (i & 1)) * np.exp(x0 + i * dx)
    tot = tot + np.exp(x0) + np.exp(x1)
    return dx * tot / 3


@nb.njit(parallel=True)
def diffusion(Nt, C):
    alpha = 0.49
    C_ = np.zeros_like(C)
    for j in range(Nt):
        for i in nb.prange(1, len(C) - 1):
            C_[i] = C[i] + alpha * (C[i + 1] - 2 * C[i] + C[i - 1])
        C, C_ = C_, C
    return C


def initial_condition(nx):
    x = np.linspace(0, 1, nx)
    return 1 / (0.25 * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((x - 0.5) / 0.25) ** 2)


_grids = {}

# What a sample measures: wall-clock seconds, or CPU seconds of the whole process (all threads),
# which a loaded machine inflates far less.
_clocks = {"wall": time.perf_counter, "cpu": time.process_time}


def simpson(threads, points, clock="wall"):
    nb.set_num_threads(threads)
    integrate_exp(0.0, 1.0, 1e-3)  # compiled once; cheap afterwards
    now = _clocks[clock]
    t = now()
    integrate_exp(0.0, 1.0, 1.0 / points)
    return now() - t


def diffuse(threads, points, steps, clock="wall"):
    nb.set_num_threads(threads)
    c0 = _grids.get(points)
    if c0 is None:
        c0 = _grids[points] = initial_condition(points)
        diffusion(1, c0.copy())  # compile
    now = _clocks[clock]
    t = now()
    diffusion(steps, c0)
    return now() - t


serve({"simpson": simpson, "diffusion": diffuse})
