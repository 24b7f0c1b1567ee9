/* `make install PREFIX=...` (issue 10), on the release build (heavy label):
 * `cmake --install <build dir> --prefix <tmp>` must give
 *  - bin/coce that prints "coce <project VERSION>" (the one version, from
 *    the top-level CMakeLists.txt);
 *  - every public header src/<module>/<name>.h as include/coce/<module>/;
 *  - the static libraries under lib/, each named in lib/pkgconfig/coce.pc;
 *  - a coce.pc with which a small C program using the library (an error
 *    text and the whole CLI, so every library and dependency is linked)
 *    compiles, links (`pkg-config --cflags --libs --static coce`) and runs.
 * The build directory is COCE_BINARY_DIR (set by CTest), else the parent of
 * the test binary's directory. */
#include "testutil.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char build_dir[PATH_MAX];
static char prefix[PATH_MAX];
static int installed;

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Runs a shell command with stdout+stderr into <prefix>/../<log>; returns the
 * exit status and the output (malloc'ed, may be NULL). */
static int run(const char *cmd, char **output)
{
    char log[PATH_MAX + 16], full[3 * PATH_MAX];
    snprintf(log, sizeof log, "%s.log", prefix);
    snprintf(full, sizeof full, "(%s) >'%s' 2>&1", cmd, log);
    int rc = system(full);
    char *text = coce_test_read_file(log, NULL);
    if (output != NULL)
        *output = text;
    else
        free(text);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static void project_version(char *buf, size_t len)
{
    char path[PATH_MAX];
    char *text = coce_test_read_file(
        coce_test_path(path, sizeof path, "CMakeLists.txt"), NULL);
    assert_non_null(text);
    const char *p = strstr(text, "project(coce VERSION ");
    assert_non_null(p);
    p += strlen("project(coce VERSION ");
    size_t n = 0;
    while ((isdigit((unsigned char)p[n]) || p[n] == '.') && n + 1 < len) {
        buf[n] = p[n];
        ++n;
    }
    buf[n] = '\0';
    free(text);
    /* SemVer MAJOR.MINOR.PATCH. */
    int dots = 0;
    for (size_t i = 0; i < n; ++i)
        dots += buf[i] == '.';
    assert_int_equal(dots, 2);
}

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("COCE_BINARY_DIR");
    if (b != NULL && b[0] != '\0') {
        snprintf(build_dir, sizeof build_dir, "%s", b);
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return -1;
        self[n] = '\0';
        for (int i = 0; i < 2; ++i) {
            char *slash = strrchr(self, '/');
            if (slash == NULL)
                return -1;
            *slash = '\0';
        }
        snprintf(build_dir, sizeof build_dir, "%s", self);
    }
    if (coce_test_tmpdir(prefix, sizeof prefix) == NULL)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    coce_test_rmtree(prefix);
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s.log", prefix);
    (void)remove(log);
    return 0;
}

static void test_install(void **state)
{
    (void)state;
    char cmd[3 * PATH_MAX], *out = NULL;
    snprintf(cmd, sizeof cmd, "cmake --install '%s' --prefix '%s'", build_dir,
             prefix);
    int rc = run(cmd, &out);
    if (rc != 0)
        fail_msg("%s: exit %d\n%s", cmd, rc, out ? out : "");
    free(out);
    installed = 1;
}

static void test_binary_version(void **state)
{
    (void)state;
    if (!installed)
        skip();
    char want[64], cmd[2 * PATH_MAX], *out = NULL;
    project_version(want, sizeof want);
    snprintf(cmd, sizeof cmd, "'%s/bin/coce' --version", prefix);
    assert_int_equal(run(cmd, &out), 0);
    assert_non_null(out);
    char line[96];
    snprintf(line, sizeof line, "coce %s\n", want);
    assert_string_equal(out, line);
    free(out);
}

/* Every header of every module directory of src/ is installed. */
static void test_headers(void **state)
{
    (void)state;
    if (!installed)
        skip();
    char src[PATH_MAX];
    coce_test_path(src, sizeof src, "src");
    DIR *top = opendir(src);
    assert_non_null(top);
    size_t n = 0;
    struct dirent *m;
    while ((m = readdir(top)) != NULL) {
        if (m->d_name[0] == '.')
            continue;
        char dir[2 * PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%s", src, m->d_name);
        DIR *d = opendir(dir);
        if (d == NULL)
            continue;
        struct dirent *h;
        while ((h = readdir(d)) != NULL) {
            size_t l = strlen(h->d_name);
            if (l < 3 || strcmp(h->d_name + l - 2, ".h") != 0)
                continue;
            char inst[3 * PATH_MAX];
            snprintf(inst, sizeof inst, "%s/include/coce/%s/%s", prefix,
                     m->d_name, h->d_name);
            if (!file_exists(inst))
                fail_msg("not installed: %s (from src/%s/%s)", inst, m->d_name,
                         h->d_name);
            ++n;
        }
        closedir(d);
    }
    closedir(top);
    assert_true(n >= 10);
    char p[2 * PATH_MAX];
    snprintf(p, sizeof p, "%s/include/coce/utils/error.h", prefix);
    assert_true(file_exists(p));
}

/* Static libraries exist and coce.pc names every one of them. */
static void test_libraries_and_pc(void **state)
{
    (void)state;
    if (!installed)
        skip();
    char pc[2 * PATH_MAX];
    snprintf(pc, sizeof pc, "%s/lib/pkgconfig/coce.pc", prefix);
    char *text = coce_test_read_file(pc, NULL);
    if (text == NULL)
        fail_msg("not installed: %s", pc);
    char want[64];
    project_version(want, sizeof want);
    char vline[96];
    snprintf(vline, sizeof vline, "Version: %s\n", want);
    assert_non_null(strstr(text, vline));

    char lib[2 * PATH_MAX];
    snprintf(lib, sizeof lib, "%s/lib", prefix);
    DIR *d = opendir(lib);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strncmp(e->d_name, "lib", 3) != 0 ||
            strcmp(e->d_name + l - 2, ".a") != 0)
            continue;
        char flag[300];
        snprintf(flag, sizeof flag, "-l%.*s ", (int)(l - 5), e->d_name + 3);
        char *hit = strstr(text, flag);
        if (hit == NULL) { /* also accept it at the end of the line */
            flag[strlen(flag) - 1] = '\n';
            hit = strstr(text, flag);
        }
        if (hit == NULL)
            fail_msg("coce.pc does not link %s", e->d_name);
        ++n;
    }
    closedir(d);
    assert_true(n >= 5);
    snprintf(lib, sizeof lib, "%s/lib/libcoce_utils.a", prefix);
    assert_true(file_exists(lib));
    snprintf(lib, sizeof lib, "%s/lib/libcoce_agent.a", prefix);
    assert_true(file_exists(lib));
    free(text);
}

static void test_pkg_config_program(void **state)
{
    (void)state;
    if (!installed)
        skip();
    char c[2 * PATH_MAX], exe[2 * PATH_MAX];
    snprintf(c, sizeof c, "%s/hello.c", prefix);
    snprintf(exe, sizeof exe, "%s/hello", prefix);
    assert_int_equal(
        coce_test_write_file(
            c, "#include \"agent/cli.h\"\n"
               "#include \"utils/error.h\"\n"
               "#include <stdio.h>\n"
               "int main(void)\n"
               "{\n"
               "    printf(\"%s|%s\\n\", coce_strerror(COCE_EPARSE),\n"
               "           coce_err_name(COCE_EIO));\n"
               "    char a0[] = \"coce\", a1[] = \"--version\";\n"
               "    char *argv[] = {a0, a1, NULL};\n"
               "    return coce_cli_main(2, argv);\n"
               "}\n"),
        0);
    char cmd[8 * PATH_MAX], *out = NULL;
    const char *cc = getenv("CC");
    snprintf(cmd, sizeof cmd,
             "%s -std=c11 -Wall -Werror '%s' -o '%s' "
             "$(PKG_CONFIG_PATH='%s/lib/pkgconfig' pkg-config --cflags --libs "
             "--static coce)",
             cc != NULL && cc[0] != '\0' ? cc : "cc", c, exe, prefix);
    int rc = run(cmd, &out);
    if (rc != 0)
        fail_msg("%s: exit %d\n%s", cmd, rc, out ? out : "");
    free(out);
    char want[64], expect[160];
    project_version(want, sizeof want);
    snprintf(expect, sizeof expect, "malformed input|COCE_EIO\ncoce %s\n",
             want);
    snprintf(cmd, sizeof cmd, "'%s'", exe);
    assert_int_equal(run(cmd, &out), 0);
    assert_non_null(out);
    assert_string_equal(out, expect);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install),
        cmocka_unit_test(test_binary_version),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_libraries_and_pc),
        cmocka_unit_test(test_pkg_config_program),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
