/* Trade reader throughput: reads FILE (plain or gzip) RUNS times with
 * coce_trade_reader (allow_unsorted: a benchmark file is a concatenation of
 * many files) and prints the median wall time, MB/s (of the file's bytes on
 * disk) and rows/s. Used by bench/ingest.sh. */
#include "data_ingest/trades.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    (void)clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_ingest FILE [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    if (runs < 1 || runs > 100)
        runs = 5;
    struct stat st;
    if (stat(argv[1], &st) != 0) {
        perror(argv[1]);
        return 1;
    }
    static coce_trade buf[8192];
    double t[100] = {0}, cpu[100] = {0};
    size_t rows = 0;
    double checksum = 0.0;
    for (int k = 0; k < runs; ++k) {
        coce_symbols *sy = NULL;
        if (coce_symbols_new(&sy) != COCE_OK)
            return 1;
        coce_trade_reader_opts o = {0, 1};
        coce_trade_reader *r = NULL;
        coce_err err;
        double t0 = clock_s(CLOCK_MONOTONIC);
        double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        if (coce_trade_reader_open(&r, argv[1], sy, &o, &err) != COCE_OK) {
            fprintf(stderr, "bench_ingest: %s\n", err.msg);
            coce_symbols_free(sy);
            return 1;
        }
        size_t n = 0, total = 0;
        int rc = COCE_OK;
        while ((rc = coce_trade_reader_next(r, buf, 8192, &n, &err)) ==
               COCE_OK) {
            total += n;
            checksum += buf[n - 1].price;
        }
        t[k] = clock_s(CLOCK_MONOTONIC) - t0;
        cpu[k] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        coce_trade_reader_free(r);
        coce_symbols_free(sy);
        if (rc != COCE_EEOF) {
            fprintf(stderr, "bench_ingest: %s\n", err.msg);
            return 1;
        }
        rows = total;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_d);
    qsort(cpu, (size_t)runs, sizeof cpu[0], cmp_d);
    double med = t[runs / 2];
    printf("rows=%zu bytes=%lld runs=%d median_s=%.4f min_s=%.4f "
           "cpu_median_s=%.4f cpu_min_s=%.4f mb_s=%.1f rows_s=%.0f check=%g\n",
           rows, (long long)st.st_size, runs, med, t[0], cpu[runs / 2], cpu[0],
           (double)st.st_size / 1e6 / med, (double)rows / med, checksum);
    return 0;
}
