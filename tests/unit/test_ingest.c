/* test_ingest.c - the @file prefixer between ingest's spool and a sink
 * (lib/ingest.h): every NDJSON record gets the file's id as its first
 * member, however the bytes are cut into writes, and nothing else changes;
 * with no prefix (CSV, TSV) the bytes pass as they are; what goes out is
 * counted and hashed; a failing sink is an error. */
#include "ingest.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char b[512];
	size_t n;
	int fail_after; /* 0: never */
};

static int to_buf(void *ctx, const void *p, size_t n)
{
	struct buf *b = ctx;
	if (b->fail_after && b->n + n > (size_t)b->fail_after) {
		errno = ENOSPC;
		return -1;
	}
	if (b->n + n > sizeof b->b)
		return -1;
	memcpy(b->b + b->n, p, n);
	b->n += n;
	return 0;
}

static void setup(struct spif_ingest_inject *in, struct buf *b, const char *prefix)
{
	memset(in, 0, sizeof *in);
	memset(b, 0, sizeof *b);
	in->fn = to_buf;
	in->ctx = b;
	in->at_line_start = 1;
	in->plen = (size_t)snprintf(in->prefix, sizeof in->prefix, "%s", prefix);
}

int main(void)
{
	static const char src[] = "{\"a\":1}\n{\"b\":\"x\\n{\"}\n{\"c\":3}\n";
	static const char want[] = "{\"@file\":\"F000001\",\"a\":1}\n{\"@file\":\"F000001\",\"b\":\"x\\n{\"}\n"
	                           "{\"@file\":\"F000001\",\"c\":3}\n";
	struct spif_ingest_inject in;
	struct buf b;
	size_t n = sizeof src - 1;
	struct spif_err err = {0};
	ok(spif_crypto_init(&err) == 0, "libgcrypt initialised");

	setup(&in, &b, "{\"@file\":\"F000001\",");
	ok(spif_ingest_inject_sink(&in, src, n) == 0, "one write");
	ok(b.n == sizeof want - 1 && memcmp(b.b, want, b.n) == 0, "each record begins with its @file");
	is_int(in.size, (long long)(sizeof want - 1), "what went out is counted");

	/* every cut of the stream into two writes, and one byte at a time */
	int all = 1;
	for (size_t cut = 0; cut <= n; cut++) {
		setup(&in, &b, "{\"@file\":\"F000001\",");
		if (spif_ingest_inject_sink(&in, src, cut) < 0 || spif_ingest_inject_sink(&in, src + cut, n - cut) < 0 ||
		    b.n != sizeof want - 1 || memcmp(b.b, want, b.n) != 0)
			all = 0;
	}
	ok(all, "the same output wherever the writes are cut");
	setup(&in, &b, "{\"@file\":\"F000001\",");
	for (size_t i = 0; i < n; i++)
		spif_ingest_inject_sink(&in, src + i, 1);
	ok(b.n == sizeof want - 1 && memcmp(b.b, want, b.n) == 0, "one byte at a time too");

	setup(&in, &b, "");
	static const char csv[] = "a,b\r\n1,2\r\n";
	ok(spif_ingest_inject_sink(&in, csv, sizeof csv - 1) == 0 && b.n == sizeof csv - 1 &&
	   memcmp(b.b, csv, b.n) == 0, "no prefix: the bytes pass unchanged");

	setup(&in, &b, "{\"@file\":\"F000001\",");
	in.hash = spif_sha256_new();
	ok(spif_ingest_inject_sink(&in, src, n) == 0, "hashed on the way");
	char h1[65], h2[65];
	spif_sha256_hex(in.hash, h1);
	spif_sha256_free(in.hash);
	struct spif_sha256 *h = spif_sha256_new();
	spif_sha256_update(h, want, sizeof want - 1);
	spif_sha256_hex(h, h2);
	spif_sha256_free(h);
	is_str(h1, h2, "the hash is of what went out, prefixes included");

	setup(&in, &b, "{\"@file\":\"F000001\",");
	b.fail_after = 30;
	ok(spif_ingest_inject_sink(&in, src, n) == -1 && errno == ENOSPC, "a failing sink is an error, its errno kept");
	return tap_done();
}
