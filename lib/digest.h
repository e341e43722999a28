/* digest.h - SHA-256 through libgcrypt (which uses the CPU's SHA
 * extensions when present), and hex helpers. */
#ifndef SPIF_DIGEST_H
#define SPIF_DIGEST_H

#include <stddef.h>

#include "err.h"

struct spif_sha256;
struct spif_sha256 *spif_sha256_new(void); /* NULL on failure */
void spif_sha256_update(struct spif_sha256 *h, const void *buf, size_t n);
/* Writes 64 lowercase hex digits and a NUL; the context can be reused. */
void spif_sha256_hex(struct spif_sha256 *h, char hex[65]);
void spif_sha256_free(struct spif_sha256 *h);
/* A tap for readers/writers: ctx is a struct spif_sha256 *. */
void spif_sha256_tap(void *ctx, const void *buf, size_t n);

/* One-shot. */
void spif_sha256_buf(const void *buf, size_t n, char hex[65]);
/* SHA-256 and size of a file's contents.  0 or -1 with err. */
int spif_sha256_file(const char *path, char hex[65], long long *size, struct spif_err *err);

void spif_hex(const unsigned char *in, size_t n, char *out); /* 2n chars + NUL */

/* libgcrypt must be initialised once per process before use; this does it
 * (idempotent, thread-unsafe: call it from main first). */
int spif_crypto_init(struct spif_err *err);

#endif
