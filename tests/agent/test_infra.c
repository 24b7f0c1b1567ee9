/* The production kit, checked statically (no Docker engine or GitHub runner
 * on these machines; issue 10):
 *  - infra/Dockerfile: a build stage FROM debian:bookworm that runs
 *    scripts/install-deps and the make targets of .ci/run; a final run
 *    stage FROM debian:bookworm-slim whose USER is not root, with a
 *    HEALTHCHECK on the freshness of data/state.json, config and data as
 *    volumes (the writable ones created and owned by the run user);
 *  - infra/ci.yml and .github/workflows/ci.yml: byte-identical, valid YAML
 *    (libyaml), triggered on push and pull_request, with a job whose steps
 *    check the code out and run `make test` (or .ci/run itself);
 *  - .ci/run: executable, runs `make test`. */
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

/* ---- Dockerfile ---------------------------------------------------------- */

#define MAX_INSTR 256

typedef struct instr {
    char op[16];   /* upper case: FROM, RUN, USER, ... */
    char *args;    /* the rest, continuation lines joined */
    int stage;     /* index of the FROM it belongs to */
} instr;

typedef struct dockerfile {
    instr in[MAX_INSTR];
    size_t n;
    int stages;
    char *text;
} dockerfile;

/* Joins backslash continuations and drops comment lines, as the Docker
 * parser does (Dockerfile reference, "Format" and "Parser directives"). */
static void dockerfile_load(dockerfile *d, const char *path)
{
    memset(d, 0, sizeof *d);
    size_t len = 0;
    char *text = coce_test_read_file(path, &len);
    assert_non_null(text);
    d->text = text;
    d->stages = -1;
    char *logical = calloc(len + 1, 1);
    assert_non_null(logical);
    size_t ll = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *s = line;
        while (isspace((unsigned char)*s))
            ++s;
        if (*s == '#' || *s == '\0')
            continue;
        size_t l = strlen(s);
        while (l > 0 && isspace((unsigned char)s[l - 1]))
            --l;
        int cont = l > 0 && s[l - 1] == '\\';
        if (cont)
            --l;
        memcpy(logical + ll, s, l);
        ll += l;
        logical[ll++] = ' ';
        if (cont)
            continue;
        logical[ll] = '\0';
        assert_true(d->n < MAX_INSTR);
        instr *in = &d->in[d->n++];
        size_t k = 0;
        const char *p = logical;
        while (*p && !isspace((unsigned char)*p) && k + 1 < sizeof in->op)
            in->op[k++] = (char)toupper((unsigned char)*p++);
        in->op[k] = '\0';
        while (isspace((unsigned char)*p))
            ++p;
        in->args = strdup(p);
        assert_non_null(in->args);
        if (strcmp(in->op, "FROM") == 0)
            ++d->stages;
        in->stage = d->stages;
        ll = 0;
    }
    free(logical);
}

static void dockerfile_free(dockerfile *d)
{
    for (size_t i = 0; i < d->n; ++i)
        free(d->in[i].args);
    free(d->text);
}

/* The i-th whitespace-separated word of s (0-based) into buf. */
static const char *word(const char *s, int i, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int w = 0;; ++w) {
        while (isspace((unsigned char)*s))
            ++s;
        if (*s == '\0')
            return buf;
        const char *e = s;
        while (*e && !isspace((unsigned char)*e))
            ++e;
        if (w == i) {
            size_t l = (size_t)(e - s) < len - 1 ? (size_t)(e - s) : len - 1;
            memcpy(buf, s, l);
            buf[l] = '\0';
            return buf;
        }
        s = e;
    }
}

/* Concatenation of the arguments of every `op` of one stage. */
static char *stage_text(const dockerfile *d, int stage, const char *op)
{
    size_t total = 1;
    for (size_t i = 0; i < d->n; ++i)
        if (d->in[i].stage == stage && strcmp(d->in[i].op, op) == 0)
            total += strlen(d->in[i].args) + 1;
    char *out = calloc(total, 1);
    assert_non_null(out);
    for (size_t i = 0; i < d->n; ++i)
        if (d->in[i].stage == stage && strcmp(d->in[i].op, op) == 0) {
            strcat(out, d->in[i].args);
            strcat(out, "\n");
        }
    return out;
}

static const instr *stage_from(const dockerfile *d, int stage)
{
    for (size_t i = 0; i < d->n; ++i)
        if (d->in[i].stage == stage && strcmp(d->in[i].op, "FROM") == 0)
            return &d->in[i];
    return NULL;
}

/* The make targets that .ci/run runs ("make test" -> "test"), from its
 * non-comment lines. */
static size_t ci_make_targets(char targets[][32], size_t cap)
{
    char path[1024];
    char *text = coce_test_read_file(coce_test_path(path, sizeof path, ".ci/run"),
                                     NULL);
    assert_non_null(text);
    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *s = line;
        while (isspace((unsigned char)*s))
            ++s;
        if (*s == '#')
            continue;
        for (char *m = strstr(s, "make "); m != NULL; m = strstr(m + 5, "make ")) {
            if (m != s && !isspace((unsigned char)m[-1]) && m[-1] != '&' &&
                m[-1] != ';')
                continue;
            char w[32];
            word(m + 5, 0, w, sizeof w);
            if (w[0] != '\0' && w[0] != '-' && n < cap)
                snprintf(targets[n++], 32, "%s", w);
        }
    }
    free(text);
    return n;
}

static int has_word_seq(const char *text, const char *a, const char *b)
{
    /* "a b" with any run of blanks between, word boundaries around. */
    for (const char *p = strstr(text, a); p != NULL; p = strstr(p + 1, a)) {
        if (p != text && !isspace((unsigned char)p[-1]) && p[-1] != '&' &&
            p[-1] != ';' && p[-1] != '(')
            continue;
        const char *q = p + strlen(a);
        if (!isspace((unsigned char)*q))
            continue;
        while (isspace((unsigned char)*q))
            ++q;
        size_t lb = strlen(b);
        if (strncmp(q, b, lb) == 0 &&
            (q[lb] == '\0' || isspace((unsigned char)q[lb]) || q[lb] == '&' ||
             q[lb] == ';'))
            return 1;
    }
    return 0;
}

static void test_ci_run(void **state)
{
    (void)state;
    char path[1024];
    coce_test_path(path, sizeof path, ".ci/run");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_mode & S_IXUSR);
    char targets[8][32];
    size_t n = ci_make_targets(targets, 8);
    int has_test = 0;
    for (size_t i = 0; i < n; ++i)
        has_test |= strcmp(targets[i], "test") == 0;
    if (!has_test)
        fail_msg(".ci/run: no `make test` line");
}

static void test_dockerfile(void **state)
{
    (void)state;
    char path[1024];
    dockerfile d;
    dockerfile_load(&d, coce_test_path(path, sizeof path, "infra/Dockerfile"));
    assert_true(d.stages >= 1);
    char w[128];

    /* Build stage: the first one, FROM debian:bookworm. */
    const instr *from = stage_from(&d, 0);
    assert_non_null(from);
    if (strcmp(word(from->args, 0, w, sizeof w), "debian:bookworm") != 0)
        fail_msg("infra/Dockerfile: first stage is FROM %s, want "
                 "debian:bookworm", w);
    char *run = stage_text(&d, 0, "RUN");
    if (strstr(run, "scripts/install-deps") == NULL)
        fail_msg("infra/Dockerfile: the build stage does not run "
                 "scripts/install-deps (as .ci/run does through make)");
    /* The same make targets as .ci/run, or .ci/run itself. */
    if (strstr(run, ".ci/run") == NULL) {
        char targets[8][32];
        size_t n = ci_make_targets(targets, 8);
        assert_true(n > 0);
        for (size_t i = 0; i < n; ++i)
            if (!has_word_seq(run, "make", targets[i]))
                fail_msg("infra/Dockerfile: the build stage does not run "
                         "`make %s` (.ci/run does)", targets[i]);
    }
    free(run);

    /* Run stage: the last one, FROM debian:bookworm-slim. */
    int last = d.stages;
    assert_true(last >= 1);
    from = stage_from(&d, last);
    assert_non_null(from);
    if (strcmp(word(from->args, 0, w, sizeof w), "debian:bookworm-slim") != 0)
        fail_msg("infra/Dockerfile: final stage is FROM %s, want "
                 "debian:bookworm-slim", w);
    char *copy = stage_text(&d, last, "COPY");
    if (strstr(copy, "--from=") == NULL)
        fail_msg("infra/Dockerfile: the run stage copies nothing from the "
                 "build stage");
    free(copy);

    /* The last USER of the final stage is set and is not root. */
    const char *user = NULL;
    for (size_t i = 0; i < d.n; ++i)
        if (d.in[i].stage == last && strcmp(d.in[i].op, "USER") == 0)
            user = d.in[i].args;
    if (user == NULL)
        fail_msg("infra/Dockerfile: the run stage has no USER (runs as root)");
    word(user, 0, w, sizeof w);
    char *colon = strchr(w, ':');
    if (colon != NULL)
        *colon = '\0';
    if (strcmp(w, "root") == 0 || strcmp(w, "0") == 0)
        fail_msg("infra/Dockerfile: USER %s", w);
    /* ... and that user is created in the image. */
    char *rrun = stage_text(&d, last, "RUN");
    if (strstr(rrun, "useradd") == NULL && strstr(rrun, "adduser") == NULL)
        fail_msg("infra/Dockerfile: the run stage never creates user %s", w);

    /* Health check on the freshness of data/state.json. */
    char *hc = stage_text(&d, last, "HEALTHCHECK");
    if (strstr(hc, "data/state.json") == NULL)
        fail_msg("infra/Dockerfile: no HEALTHCHECK on data/state.json");
    if (strstr(hc, "-mmin") == NULL && strstr(hc, "-mtime") == NULL &&
        strstr(hc, "-newer") == NULL && strstr(hc, "stat ") == NULL)
        fail_msg("infra/Dockerfile: the HEALTHCHECK does not test the age of "
                 "data/state.json");
    if (strstr(hc, "CMD") == NULL)
        fail_msg("infra/Dockerfile: HEALTHCHECK without CMD");
    free(hc);

    /* Config and data are volumes; data (written by the non-root user)
     * exists in the image and belongs to it: a volume over a directory the
     * image lacks is created root-owned, and the engine could never write
     * state.json (so the health check could never pass). */
    char *vol = stage_text(&d, last, "VOLUME");
    if (strstr(vol, "/config") == NULL)
        fail_msg("infra/Dockerfile: config is not a VOLUME");
    if (strstr(vol, "/data") == NULL)
        fail_msg("infra/Dockerfile: data is not a VOLUME");
    free(vol);
    if (strstr(rrun, "/data") == NULL || strstr(rrun, "chown") == NULL)
        fail_msg("infra/Dockerfile: the run stage does not create the data "
                 "directory owned by the run user (mkdir -p /app/data ... && "
                 "chown)");
    free(rrun);

    /* The image runs the coce binary. */
    char *ep = stage_text(&d, last, "ENTRYPOINT");
    assert_non_null(strstr(ep, "coce"));
    free(ep);
    dockerfile_free(&d);
}

/* ---- workflow ----------------------------------------------------------- */

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map,
                            const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; ++p) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k != NULL && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

static const char *scalar(yaml_node_t *n)
{
    return n != NULL && n->type == YAML_SCALAR_NODE
               ? (const char *)n->data.scalar.value
               : NULL;
}

static void load_yaml(const char *path, yaml_document_t *doc)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    yaml_parser_t parser;
    assert_true(yaml_parser_initialize(&parser));
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, doc))
        fail_msg("%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "YAML error");
    yaml_parser_delete(&parser);
    fclose(f);
    assert_non_null(yaml_document_get_root_node(doc));
}

static void test_workflow_copies_identical(void **state)
{
    (void)state;
    char a[1024], b[1024];
    size_t la = 0, lb = 0;
    char *x = coce_test_read_file(coce_test_path(a, sizeof a, "infra/ci.yml"),
                                  &la);
    char *y = coce_test_read_file(
        coce_test_path(b, sizeof b, ".github/workflows/ci.yml"), &lb);
    assert_non_null(x);
    assert_non_null(y);
    if (la != lb || memcmp(x, y, la) != 0)
        fail_msg("infra/ci.yml and .github/workflows/ci.yml differ: copy one "
                 "over the other");
    free(x);
    free(y);
}

static void test_workflow_parses_and_runs_make_test(void **state)
{
    (void)state;
    char path[1024];
    yaml_document_t doc;
    load_yaml(coce_test_path(path, sizeof path, "infra/ci.yml"), &doc);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    assert_int_equal(root->type, YAML_MAPPING_NODE);

    /* Triggers: push and pull_request (a mapping, a sequence or a scalar). */
    yaml_node_t *on = map_get(&doc, root, "on");
    assert_non_null(on);
    int push = 0, pr = 0;
    if (on->type == YAML_MAPPING_NODE) {
        push = map_get(&doc, on, "push") != NULL;
        pr = map_get(&doc, on, "pull_request") != NULL;
    } else if (on->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = on->data.sequence.items.start;
             it < on->data.sequence.items.top; ++it) {
            const char *s = scalar(yaml_document_get_node(&doc, *it));
            push |= s != NULL && strcmp(s, "push") == 0;
            pr |= s != NULL && strcmp(s, "pull_request") == 0;
        }
    } else {
        push = strcmp(scalar(on), "push") == 0;
    }
    if (!push || !pr)
        fail_msg("ci.yml: `on` must list push and pull_request");

    /* A job that checks out and runs `make test` (or .ci/run). */
    yaml_node_t *jobs = map_get(&doc, root, "jobs");
    assert_non_null(jobs);
    assert_int_equal(jobs->type, YAML_MAPPING_NODE);
    int found = 0;
    for (yaml_node_pair_t *p = jobs->data.mapping.pairs.start;
         p < jobs->data.mapping.pairs.top && !found; ++p) {
        yaml_node_t *job = yaml_document_get_node(&doc, p->value);
        assert_non_null(map_get(&doc, job, "runs-on"));
        yaml_node_t *steps = map_get(&doc, job, "steps");
        if (steps == NULL || steps->type != YAML_SEQUENCE_NODE)
            continue;
        int checkout = 0, test = 0;
        for (yaml_node_item_t *it = steps->data.sequence.items.start;
             it < steps->data.sequence.items.top; ++it) {
            yaml_node_t *step = yaml_document_get_node(&doc, *it);
            const char *uses = scalar(map_get(&doc, step, "uses"));
            const char *run = scalar(map_get(&doc, step, "run"));
            checkout |= uses != NULL && strncmp(uses, "actions/checkout", 16) == 0;
            test |= run != NULL &&
                    (has_word_seq(run, "make", "test") || strstr(run, ".ci/run"));
        }
        found = checkout && test;
    }
    if (!found)
        fail_msg("ci.yml: no job checks the code out and runs `make test` "
                 "(what .ci/run runs)");
    yaml_document_delete(&doc);
}

/* The helper that reads .ci/run, on its own: "make test" with flags,
 * chained commands and comments. */
static void test_word_seq(void **state)
{
    (void)state;
    assert_true(has_word_seq("make test", "make", "test"));
    assert_true(has_word_seq("a && make  test && b", "make", "test"));
    assert_true(has_word_seq("x;make test", "make", "test"));
    assert_false(has_word_seq("make test-fast", "make", "test"));
    assert_false(has_word_seq("cmake test", "make", "test"));
    assert_false(has_word_seq("make build", "make", "test"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word_seq),
        cmocka_unit_test(test_ci_run),
        cmocka_unit_test(test_dockerfile),
        cmocka_unit_test(test_workflow_copies_identical),
        cmocka_unit_test(test_workflow_parses_and_runs_make_test),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
