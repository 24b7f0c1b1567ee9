/* The data-directory lock: two engines never share data/ (state, journal).
 *
 * flock(2) on <dir>/LOCK, exclusive and non-blocking. The kernel drops the
 * lock when the holder exits, even on a crash, so a stale LOCK file never
 * blocks a restart. The file holds the holder's pid for the error message;
 * it is not removed on release (removing it would race with a new holder).
 * flock locks belong to the open file description: a forked child shares
 * its parent's lock; the descriptor is close-on-exec. */
#ifndef COCE_STATE_LOCK_H
#define COCE_STATE_LOCK_H

#include "utils/error.h"

typedef struct coce_lock coce_lock;

/* Takes the lock on `dir` (which must exist). Held by another process:
 * COCE_ELOCKED, "data/: locked by pid N". Other failures: COCE_EIO. */
int coce_lock_acquire(const char *dir, coce_lock **out, coce_err *err);
/* Releases and frees; NULL is a no-op. */
void coce_lock_release(coce_lock *lock);

#endif
