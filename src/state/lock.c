#include "state/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct coce_lock {
    int fd;
};

/* The pid written by the holder, or -1 when unreadable. */
static long read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    char *end = NULL;
    long pid = strtol(buf, &end, 10);
    return end == buf ? -1 : pid;
}

int coce_lock_acquire(const char *dir, coce_lock **out, coce_err *err)
{
    if (dir == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL, "lock: bad arguments");
    *out = NULL;
    size_t dlen = strlen(dir);
    const char *sep = dlen > 0 && dir[dlen - 1] == '/' ? "" : "/";
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s%sLOCK", dir, sep) >=
        sizeof path)
        return coce_err_set(err, COCE_EINVAL, "%s: path too long", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return coce_err_set(err, COCE_EIO, "%s: cannot open: %s", path,
                            strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int saved = errno;
        int rc;
        long holder = saved == EWOULDBLOCK ? read_pid(fd) : 0;
        if (saved == EWOULDBLOCK && holder > 0)
            rc = coce_err_set(err, COCE_ELOCKED, "%s%s: locked by pid %ld", dir,
                              sep, holder);
        else if (saved == EWOULDBLOCK)
            rc = coce_err_set(err, COCE_ELOCKED,
                              "%s%s: locked by another process", dir, sep);
        else
            rc = coce_err_set(err, COCE_EIO, "%s: flock: %s", path,
                              strerror(saved));
        close(fd);
        return rc;
    }
    coce_lock *lock = malloc(sizeof *lock);
    char pid[32];
    int plen = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (lock == NULL || ftruncate(fd, 0) != 0 ||
        pwrite(fd, pid, (size_t)plen, 0) != plen) {
        int rc =
            coce_err_set(err, lock == NULL ? COCE_ENOMEM : COCE_EIO,
                         "%s: cannot record pid: %s", path, strerror(errno));
        free(lock);
        close(fd);
        return rc;
    }
    lock->fd = fd;
    *out = lock;
    return COCE_OK;
}

void coce_lock_release(coce_lock *lock)
{
    if (lock == NULL)
        return;
    (void)flock(lock->fd, LOCK_UN);
    close(lock->fd);
    free(lock);
}
