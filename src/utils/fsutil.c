#include "utils/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int coce_fs_mkdir_p(const char *dir)
{
    if (dir == NULL || dir[0] == '\0')
        return COCE_EINVAL;
    char buf[4096];
    size_t len = strlen(dir);
    if (len >= sizeof buf)
        return COCE_EINVAL;
    memcpy(buf, dir, len + 1);
    for (char *p = buf + 1; *p != '\0'; ++p) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return COCE_EIO;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return COCE_EIO;
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return COCE_EIO; /* exists, but as a file */
    return COCE_OK;
}

int coce_fs_mkdir_parent(const char *path)
{
    if (path == NULL)
        return COCE_EINVAL;
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
        return COCE_OK;
    char buf[4096];
    size_t len = (size_t)(slash - path);
    if (len >= sizeof buf)
        return COCE_EINVAL;
    memcpy(buf, path, len);
    buf[len] = '\0';
    return coce_fs_mkdir_p(buf);
}

int coce_fs_exists(const char *path)
{
    struct stat st;
    return path != NULL && stat(path, &st) == 0;
}

static int fsync_dir_of(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        dir[0] = '.';
        dir[1] = '\0';
    } else {
        size_t len = (size_t)(slash - path);
        if (len == 0)
            len = 1;
        if (len >= sizeof dir)
            return COCE_EINVAL;
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return COCE_EIO;
    int rc = fsync(fd) == 0 ? COCE_OK : COCE_EIO;
    close(fd);
    return rc;
}

int coce_fs_write_atomic(const char *path, const void *data, size_t len,
                         coce_err *err)
{
    if (path == NULL || (data == NULL && len > 0))
        return coce_err_set(err, COCE_EINVAL, "write_atomic: bad arguments");
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp)
        return coce_err_set(err, COCE_EINVAL, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return coce_err_set(err, COCE_EIO, "%s: cannot create temporary: %s",
                            path, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            close(fd);
            unlink(tmp);
            return coce_err_set(err, COCE_EIO, "%s: write failed: %s", path,
                                strerror(saved));
        }
        p += n;
        left -= (size_t)n;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        return coce_err_set(err, COCE_EIO, "%s: fsync failed: %s", path,
                            strerror(saved));
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return coce_err_set(err, COCE_EIO, "%s: rename failed: %s", path,
                            strerror(saved));
    }
    if (fsync_dir_of(path) != COCE_OK)
        return coce_err_set(err, COCE_EIO, "%s: directory fsync failed", path);
    return COCE_OK;
}

int coce_fs_read_all(const char *path, char **out, size_t *out_len,
                     coce_err *err)
{
    if (path == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL, "read_all: bad arguments");
    *out = NULL;
    FILE *f = fopen(path, "rbe");
    if (f == NULL)
        return coce_err_set(err, errno == ENOENT ? COCE_ENOTFOUND : COCE_EIO,
                            "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fclose(f);
            return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return coce_err_set(err, COCE_EIO, "%s: read error", path);
    }
    buf[len] = '\0';
    *out = buf;
    if (out_len != NULL)
        *out_len = len;
    return COCE_OK;
}

static void to_hex(const unsigned char *digest, unsigned n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; ++i) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[2 * n] = '\0';
}

void coce_sha256_hex(const void *data, size_t len, char out_hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    (void)EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL);
    to_hex(digest, n, out_hex);
}

int coce_fs_sha256_file(const char *path, char out_hex[65], coce_err *err)
{
    FILE *f = fopen(path, "rbe");
    if (f == NULL)
        return coce_err_set(err, COCE_EIO, "%s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        fclose(f);
        return coce_err_set(err, COCE_ENOMEM, "sha256: no context");
    }
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        (void)EVP_DigestUpdate(ctx, buf, got);
    int failed = ferror(f);
    fclose(f);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    (void)EVP_DigestFinal_ex(ctx, digest, &n);
    EVP_MD_CTX_free(ctx);
    if (failed)
        return coce_err_set(err, COCE_EIO, "%s: read error", path);
    to_hex(digest, n, out_hex);
    return COCE_OK;
}
