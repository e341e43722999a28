/* recover-vault.c - what an attacker with the raw disk and the surviving
 * keys gets back from a spif home: the test of crypto-erase
 * (tests/bats/cryptoerase.bats), never installed.
 *
 *   recover-vault IMAGE KEYFILE... [-- MARKER...]
 *
 * IMAGE is anything raw: a file system image, a catalog backup, a WAL.
 * Every 40-byte window of it is tried as an AES-key-wrapped data key
 * under every KEK given (32-byte key files, as $SPIF_HOME/keys holds
 * them); every key that unwraps is tried on every vault file header
 * ("SPIFVLT1") found in the image, with the library's own vault format
 * code (spif_vault_try_key).  It prints one line per vault file it opens
 * ("opened F000002 (data key 2)") and, for each MARKER, whether any
 * opened plaintext holds it ("marker M found").  Exit 0 always; the test
 * reads the lines.  Plaintext is never printed. */
#include <fcntl.h>
#include <gcrypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vault.h"

#define MAXKEYS 4096

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: recover-vault IMAGE KEYFILE... [-- MARKER...]\n");
		return 64;
	}
	gcry_check_version(NULL);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 66;
	}
	size_t n = (size_t)st.st_size;
	unsigned char *img = n ? mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	if (n && img == MAP_FAILED) {
		perror("mmap");
		return 74;
	}
	int i = 2;
	unsigned char keks[64][32];
	int nk = 0;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (f && nk < 64 && fread(keks[nk], 1, 32, f) == 32)
			nk++;
		if (f)
			fclose(f);
	}
	char **markers = i < argc ? argv + i + 1 : NULL;
	int nm = markers ? argc - i - 1 : 0;
	int *found = calloc((size_t)nm + 1, sizeof *found);

	/* every window under every KEK (the AES key wrap integrity check lets
	 * a wrong key or a window that is not a wrapped key through once in
	 * 2^64) */
	static unsigned char dks[MAXKEYS][32];
	int nd = 0;
	for (int k = 0; k < nk; k++) {
		gcry_cipher_hd_t h;
		if (gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_AESWRAP, 0) ||
		    gcry_cipher_setkey(h, keks[k], 32))
			return 70;
		for (size_t off = 0; off + 40 <= n; off++) {
			unsigned char dk[32];
			/* a wrapped key's first 8 bytes are random: never 8 zeros
			 * (2^-64), and an image is mostly zeros */
			static const unsigned char zero[8];
			if (memcmp(img + off, zero, 8) == 0)
				continue;
			if (gcry_cipher_decrypt(h, dk, 32, img + off, 40) != 0)
				continue;
			int dup = 0;
			for (int d = 0; d < nd && !dup; d++)
				dup = memcmp(dks[d], dk, 32) == 0;
			if (!dup && nd < MAXKEYS)
				memcpy(dks[nd++], dk, 32);
		}
		gcry_cipher_close(h);
	}
	printf("keks %d, data keys unwrapped %d\n", nk, nd);

	/* every vault header, opened with every key found */
	size_t ptcap = 1 << 20;
	unsigned char *pt = malloc(ptcap + 1);
	for (size_t off = 0; n >= 8 && off + 8 <= n; off++) {
		if (memcmp(img + off, "SPIFVLT1", 8) != 0)
			continue;
		for (int d = 0; d < nd; d++) {
			size_t ptn = ptcap;
			if (!spif_vault_try_key(dks[d], img + off, n - off, pt, &ptn))
				continue;
			char fid[24];
			spif_file_id_format((long long)(be64(img + off + 16) & 0x7fffffffffffffffULL), fid);
			printf("opened %s (data key %llu) at offset %zu\n", fid, (unsigned long long)be64(img + off + 24), off);
			pt[ptn] = '\0';
			for (int m = 0; m < nm; m++)
				if (memmem(pt, ptn, markers[m], strlen(markers[m])))
					found[m] = 1;
		}
	}
	for (int m = 0; m < nm; m++)
		printf("marker %s %s\n", markers[m], found[m] ? "found" : "not found");
	free(pt);
	free(found);
	return 0;
}
