/* The crash test of issue 8: the live runner (the loop of `coce --mode
 * live`, in a forked child) trades against the fake Binance venue and the
 * fake market-data server, which live in this process, and is killed with
 * SIGKILL after a random delay in [0, T) -- before, during or after any
 * journal write or venue request. It is restarted each time against the
 * SAME venue and data directory. After every kill the venue and the
 * journal agree: every order at the venue is in the journal (none lost),
 * no client id was ever sent twice (each POST made one venue order), no
 * order the journal abandoned is at the venue, no fill is journalled beyond
 * what the venue executed. A few sends are made to drop the connection
 * after the venue accepted the order (outcome unknown). At the end a clean
 * run after recvWindow settles everything: journalled fills equal the
 * venue's executions order by order and the book's positions equal the
 * venue's net executions.
 *
 * Seeded (COCE_CRASH_SEED, default 20240601); COCE_CRASH_RUNS runs
 * (default 200); COCE_CRASH_T_MS is T (default 400). Prints its figures. */
#include "live_venue_check.h"

#include "agent/live.h"
#include "utils/log.h"
#include "utils/rng.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[256];

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? atol(v) : dflt;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_sigkill_at_random_points(void **state)
{
    (void)state;
    long runs = env_long("COCE_CRASH_RUNS", 200);
    long t_ms = env_long("COCE_CRASH_T_MS", 400);
    uint64_t seed = (uint64_t)env_long("COCE_CRASH_SEED", 20240601);
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    lf_market m;
    lf_market_init(&m, 6, 6 * 2880);
    mock_api api;
    assert_int_equal(mock_start(&api, lf_route, &m), 0);
    coce_fake_binance *f = lv_venue();
    assert_non_null(f);
    coce_config cfg;
    assert_int_equal(lf_config(&cfg, tmp, api.base, coce_fake_binance_url(f)),
                     0);
    cfg.feed.snapshot_ms = 1000;
    coce_live_args a;
    memset(&a, 0, sizeof a);
    a.cfg = &cfg;
    a.live = 1;
    a.api_key = LV_KEY;
    a.api_secret = LV_SECRET;
    a.clock_fn = lf_no_clock;
    char journal[600], st[600], why[300];
    snprintf(journal, sizeof journal, "%s/data/journal.db", tmp);
    snprintf(st, sizeof st, "%s/data/state.json", tmp);
    coce_rng rng;
    coce_rng_init(&rng, seed);
    int64_t t0 = mono_ms();
    size_t drops = 0, max_orders = 0;
    lv_report rep;
    for (long i = 0; i < runs; ++i) {
        if (coce_rng_uniform(&rng) < 0.2) {
            coce_fake_binance_fault(f, "POST", "/api/v3/order",
                                    COCE_FAKE_BN_DROP, 1, 0);
            ++drops;
        }
        int64_t delay = (int64_t)(coce_rng_uniform(&rng) * (double)t_ms);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            coce_log_set_stderr_level(COCE_LOG_ERROR);
            coce_live_result r;
            coce_err err;
            int rc = coce_live_run(&a, &r, &err);
            _exit(rc == COCE_OK ? 0 : 3);
        }
        struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        /* it never failed by itself: it was killed (or had not started) */
        if (WIFEXITED(status))
            fail_msg("run %ld exited by itself with %d", i,
                     WEXITSTATUS(status));
        assert_int_equal(lv_check(f, journal, &rep, why, sizeof why), 0);
        if (rep.venue_orders != rep.at_venue)
            fail_msg("run %ld: %zu orders at the venue, %zu of them in the "
                     "journal",
                     i, rep.venue_orders, rep.at_venue);
        if (rep.fill_excess != 0)
            fail_msg("run %ld: %s", i, why);
        assert_int_equal(rep.done_at_venue, 0);
        /* one venue order per POST: no client id was sent twice */
        assert_int_equal(
            (size_t)coce_fake_binance_requests(f, "POST", "/api/v3/order"),
            rep.venue_orders);
        max_orders = rep.venue_orders;
    }
    int64_t crash_ms = mono_ms() - t0;
    /* a last clean run that settles every unknown order */
    pthread_mutex_lock(&api.mu);
    int64_t top = m.max_served[0] > m.max_served[1] ? m.max_served[0]
                                                    : m.max_served[1];
    m.n_trades = top + 40;
    pthread_mutex_unlock(&api.mu);
    /* idle long enough for orders that restart tracks as "sent now" to
     * pass recvWindow + 1 s and be settled */
    a.stop_after_idle = 20;
    coce_live_result r;
    coce_err err;
    coce_log_set_stderr_level(COCE_LOG_ERROR);
    if (coce_live_run(&a, &r, &err) != COCE_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(lv_check(f, journal, &rep, why, sizeof why), 0);
    assert_int_equal(rep.venue_orders, rep.at_venue);
    assert_int_equal(rep.fill_mismatch, 0);
    assert_int_equal(rep.fill_excess, 0);
    assert_int_equal(rep.unfinished, 0);
    assert_int_equal(rep.done_at_venue, 0);
    if (lv_book_matches(f, st, journal, why, sizeof why) != 0)
        fail_msg("%s", why);
    printf("crash test: %ld SIGKILL runs (seed %llu, T %ld ms) in %.1f s; "
           "%zu orders journalled, %zu at the venue, %zu abandoned (never "
           "sent), %zu fills; drop faults armed %zu; duplicates 0, lost 0; "
           "last run: %zu adopted, %zu abandoned at start\n",
           runs, (unsigned long long)seed, t_ms, (double)crash_ms / 1000.0,
           rep.intents, rep.venue_orders, rep.intents - rep.venue_orders,
           rep.fills, drops, r.adopted, r.abandoned);
    assert_true(max_orders > 0);
    coce_fake_binance_stop(f);
    mock_stop(&api);
    coce_test_rmtree(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_at_random_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
