/* Adapters from the replay and the live feed to coce_source. */
#include "data_ingest/source.h"

#include <stddef.h>

static int replay_next(void *impl, coce_trade *out, coce_err *err)
{
    return coce_replay_next(impl, out, err);
}

/* A replay ends by itself at its last trade and has no stop flag to set
 * (the struct holds only the replay pointer, and a flag in static storage
 * would be shared by every replay); the loop's own stop flag ends a
 * back-test. */
static void replay_stop(void *impl)
{
    (void)impl;
}

static int feed_next(void *impl, coce_trade *out, coce_err *err)
{
    return coce_live_feed_next(impl, out, err);
}

static void feed_stop(void *impl)
{
    coce_live_feed_stop(impl);
}

coce_source coce_replay_source(coce_replay *r)
{
    coce_source s = {.impl = r, .next = replay_next, .stop = replay_stop};
    return s;
}

coce_source coce_live_feed_source(coce_live_feed *f)
{
    coce_source s = {.impl = f, .next = feed_next, .stop = feed_stop};
    return s;
}
