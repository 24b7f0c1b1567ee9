/* The data-directory lock, contended by a forked child. */
#include "state/lock.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_child_holds_parent_locked_out(void **state)
{
    (void)state;
    char dir[256];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(go[1]);
        coce_lock *lock = NULL;
        int rc = coce_lock_acquire(dir, &lock, NULL);
        char c = rc == COCE_OK ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(3);
        if (read(go[0], &c, 1) != 1) /* hold until the parent says */
            _exit(4);
        coce_lock_release(lock);
        _exit(rc == COCE_OK ? 0 : 1);
    }
    close(ready[1]);
    close(go[0]);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');

    coce_lock *lock = NULL;
    coce_err err;
    assert_int_equal(coce_lock_acquire(dir, &lock, &err), COCE_ELOCKED);
    assert_null(lock);
    char want[512];
    (void)snprintf(want, sizeof want, "%s/: locked by pid %ld", dir, (long)pid);
    assert_string_equal(err.msg, want);
    /* A trailing slash is not doubled. */
    char slashed[300];
    (void)snprintf(slashed, sizeof slashed, "%s/", dir);
    assert_int_equal(coce_lock_acquire(slashed, &lock, &err), COCE_ELOCKED);
    assert_string_equal(err.msg, want);

    assert_int_equal(write(go[1], "x", 1), 1);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(ready[0]);
    close(go[1]);

    /* Released: the parent takes it and records its own pid. */
    assert_int_equal(coce_lock_acquire(dir, &lock, &err), COCE_OK);
    assert_non_null(lock);
    char path[300];
    (void)snprintf(path, sizeof path, "%s/LOCK", dir);
    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    assert_int_equal(strtol(text, NULL, 10), (long)getpid());
    free(text);
    coce_lock_release(lock);
    coce_lock_release(NULL);
    coce_test_rmtree(dir);
}

static void test_crashed_holder_does_not_block(void **state)
{
    (void)state;
    char dir[256];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        coce_lock *lock = NULL;
        /* Exits without releasing: the kernel drops the lock. */
        _exit(coce_lock_acquire(dir, &lock, NULL) == COCE_OK ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    coce_lock *lock = NULL;
    assert_int_equal(coce_lock_acquire(dir, &lock, NULL), COCE_OK);
    coce_lock_release(lock);
    coce_test_rmtree(dir);
}

static void test_bad_directory(void **state)
{
    (void)state;
    coce_lock *lock = NULL;
    coce_err err;
    assert_int_equal(coce_lock_acquire("/nonexistent/coce/data", &lock, &err),
                     COCE_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/coce/data/LOCK"));
    assert_int_equal(coce_lock_acquire(NULL, &lock, &err), COCE_EINVAL);
    char big[5000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(coce_lock_acquire(big, &lock, &err), COCE_EINVAL);

    /* LOCK is something we cannot write a pid into (a FIFO). */
    char dir[256], path[300];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    (void)snprintf(path, sizeof path, "%s/LOCK", dir);
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_equal(coce_lock_acquire(dir, &lock, &err), COCE_EIO);
    assert_non_null(strstr(err.msg, "cannot record pid"));
    assert_null(lock);
    coce_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_child_holds_parent_locked_out),
        cmocka_unit_test(test_crashed_holder_does_not_block),
        cmocka_unit_test(test_bad_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
