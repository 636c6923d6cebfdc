/*
 * The physical reference for bench/comm/mpi.ts: the same ping-pong (8 B, 1 KiB, 1 MiB, 16 MiB)
 * and allreduce of one double, in C on the same MPI, compiled with mpicc in the same run.
 * Prints one JSON object: for each figure, the median and the best of `batches` batch means,
 * in seconds, measured like bench/comm/ranks.ts does (barrier before each batch).
 *
 *   mpicc -O2 -o pingpong pingpong.c && mpirun -np 2 ./pingpong [batches [divisor]]
 *
 * `divisor` divides every iteration count (default 1): fewer round trips for slow links.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median and best of the batch means, in `out`. */
static void summarise(double *times, int batches, double out[2]) {
  qsort(times, batches, sizeof(double), compare);
  out[0] = times[batches / 2];
  out[1] = times[0];
}

static void ping_pong(char *buf, size_t bytes, int iters, int rank) {
  for (int i = 0; i < iters; i++) {
    if (rank == 0) {
      MPI_Send(buf, (int)bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(buf, (int)bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(buf, (int)bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buf, (int)bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
    }
  }
}

int main(int argc, char **argv) {
  int provided, rank;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int batches = argc > 1 ? atoi(argv[1]) : 15;
  int divisor = argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 1;
  const size_t sizes[] = {8, 1024, 1 << 20, 16 << 20};
  int iters[] = {20000, 20000, 200, 20};
  for (int s = 0; s < 4; s++) iters[s] = iters[s] / divisor > 0 ? iters[s] / divisor : 1;
  char *buf = malloc(16 << 20);
  memset(buf, 1, 16 << 20);
  double *times = malloc(sizeof(double) * batches);
  double summary[2];
  if (rank == 0) printf("{\"pingPong\": {");
  for (int s = 0; s < 4; s++) {
    ping_pong(buf, sizes[s], iters[s], rank); /* warm-up */
    for (int b = 0; b < batches; b++) {
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = MPI_Wtime();
      ping_pong(buf, sizes[s], iters[s], rank);
      times[b] = (MPI_Wtime() - t0) / iters[s];
    }
    summarise(times, batches, summary);
    if (rank == 0) printf("%s\"%zu\": {\"median\": %.6e, \"best\": %.6e}", s ? ", " : "", sizes[s], summary[0], summary[1]);
  }
  double x = rank + 0.5, y;
  const int n = 20000 / divisor > 0 ? 20000 / divisor : 1;
  for (int i = 0; i < n; i++) MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  for (int b = 0; b < batches; b++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int i = 0; i < n; i++) MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    times[b] = (MPI_Wtime() - t0) / n;
  }
  summarise(times, batches, summary);
  if (rank == 0) printf("}, \"allreduce\": {\"median\": %.6e, \"best\": %.6e}", summary[0], summary[1]);
  /* What the JS side does: nonblocking, tested until done (libnbc in Open MPI). */
  for (int b = 0; b < batches; b++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int i = 0; i < n; i++) {
      MPI_Request req;
      int done = 0;
      MPI_Iallreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &req);
      while (!done) MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    }
    times[b] = (MPI_Wtime() - t0) / n;
  }
  summarise(times, batches, summary);
  if (rank == 0) printf(", \"iallreduce\": {\"median\": %.6e, \"best\": %.6e}}\n", summary[0], summary[1]);
  free(times);
  free(buf);
  MPI_Finalize();
  return 0;
}
