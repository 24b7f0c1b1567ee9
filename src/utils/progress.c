#include "utils/progress.h"

#include "utils/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 24
#define LABEL_MAX 32
#define ETA_CAP_S (100.0 * 3600.0 - 1.0)

struct coce_progress {
    FILE *out;
    int active;   /* out is a terminal */
    int finished;
    int64_t total;
    int64_t done;
    double start_s;     /* monotonic clock at coce_progress_new() */
    double last_now_s;  /* latest elapsed time seen (never decreases) */
    double last_draw_s; /* elapsed time of the last frame */
    char label[LABEL_MAX];
};

static double monotonic_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "1.23k" style: three significant digits with an SI suffix, so that the
 * frame keeps a stable width whatever the unit rate. */
static void human(char *buf, size_t len, double x)
{
    static const char suffix[] = {'\0', 'k', 'M', 'G', 'T'};
    size_t s = 0;
    while (x >= 999.5 && s + 1 < sizeof suffix) {
        x /= 1000.0;
        ++s;
    }
    int prec = x >= 99.95 ? 0 : x >= 9.995 ? 1 : 2;
    if (suffix[s] == '\0')
        (void)snprintf(buf, len, "%.*f", s == 0 && x == floor(x) ? 0 : prec, x);
    else
        (void)snprintf(buf, len, "%.*f%c", prec, x, suffix[s]);
}

static void hms(char *buf, size_t len, double secs)
{
    if (secs > ETA_CAP_S)
        secs = ETA_CAP_S;
    long t = (long)(secs + 0.5);
    (void)snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

int coce_progress_format(char *buf, size_t len, int64_t done, int64_t total,
                         double elapsed_s)
{
    if (buf == NULL || len == 0)
        return COCE_EINVAL;
    if (done < 0)
        done = 0;
    if (total > 0 && done > total)
        done = total;
    int have_rate = elapsed_s > 0 && done > 0 && isfinite(elapsed_s);
    double rate = have_rate ? (double)done / elapsed_s : 0.0;
    char rate_s[32];
    if (have_rate)
        human(rate_s, sizeof rate_s, rate);
    else
        (void)snprintf(rate_s, sizeof rate_s, "--");
    int n;
    if (total <= 0) {
        char el[32];
        hms(el, sizeof el, elapsed_s > 0 && isfinite(elapsed_s) ? elapsed_s
                                                                 : 0.0);
        n = snprintf(buf, len, "%lld  %s/s  %s", (long long)done, rate_s, el);
    } else {
        double frac = (double)done / (double)total;
        char bar[BAR_WIDTH + 1];
        size_t fill = (size_t)(frac * BAR_WIDTH);
        for (size_t i = 0; i < BAR_WIDTH; ++i)
            bar[i] = i < fill ? '#' : '-';
        bar[BAR_WIDTH] = '\0';
        char eta[32];
        if (done == total)
            hms(eta, sizeof eta, 0.0);
        else if (have_rate)
            hms(eta, sizeof eta, (double)(total - done) / rate);
        else
            (void)snprintf(eta, sizeof eta, "--:--:--");
        n = snprintf(buf, len, "[%s] %5.1f%%  %s/s  ETA %s", bar, 100.0 * frac,
                     rate_s, eta);
    }
    if (n < 0)
        return COCE_EINVAL;
    return (size_t)n >= len ? COCE_ERANGE : COCE_OK;
}

static void draw(coce_progress *p, double now_s)
{
    char frame[160];
    (void)coce_progress_format(frame, sizeof frame, p->done, p->total,
                               now_s);
    /* \r returns to column 0; ESC[K clears what a longer frame left. */
    (void)fprintf(p->out, "\r%s%s%s\033[K", p->label, p->label[0] ? " " : "",
                  frame);
    (void)fflush(p->out);
    p->last_draw_s = now_s;
}

coce_progress *coce_progress_new(FILE *out, int64_t total_units,
                                 const char *label)
{
    coce_progress *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->out = out;
    p->total = total_units;
    if (label != NULL)
        (void)snprintf(p->label, sizeof p->label, "%s", label);
    int fd = out != NULL ? fileno(out) : -1;
    p->active = fd >= 0 && isatty(fd);
    p->start_s = monotonic_s();
    if (p->active)
        draw(p, 0.0);
    return p;
}

void coce_progress_update_at(coce_progress *p, int64_t done_units,
                             double now_s)
{
    if (p == NULL || p->finished)
        return;
    p->done = done_units;
    if (!(now_s > p->last_now_s)) /* also rejects NaN */
        now_s = p->last_now_s;
    p->last_now_s = now_s;
    if (p->active && now_s - p->last_draw_s >= COCE_PROGRESS_MIN_INTERVAL_S)
        draw(p, now_s);
}

void coce_progress_update(coce_progress *p, int64_t done_units)
{
    if (p == NULL || p->finished)
        return;
    if (!p->active) {
        p->done = done_units;
        return;
    }
    coce_progress_update_at(p, done_units, monotonic_s() - p->start_s);
}

void coce_progress_finish(coce_progress *p)
{
    if (p == NULL || p->finished)
        return;
    p->finished = 1;
    if (!p->active)
        return;
    double now = monotonic_s() - p->start_s;
    draw(p, now > p->last_now_s ? now : p->last_now_s);
    (void)fputc('\n', p->out);
    (void)fflush(p->out);
}

void coce_progress_free(coce_progress *p)
{
    free(p);
}

int coce_progress_active(const coce_progress *p)
{
    return p != NULL && p->active;
}
