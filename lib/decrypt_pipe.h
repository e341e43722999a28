/* decrypt_pipe.h - an OpenPGP message decrypted into a pipe by a thread of
 * its own, for a reader that takes the plaintext as a stream (a tar read
 * by libarchive), so that the plaintext is never anywhere but in the pipe
 * and the reader's buffers, whatever its size.  export verify
 * (export_check.c) and a forensic bundle's verify (forensic_verify.c)
 * read their archives through it. */
#ifndef SPIF_DECRYPT_PIPE_H
#define SPIF_DECRYPT_PIPE_H

#include <pthread.h>

#include "err.h"

struct spif_decrypt_pipe {
	int rd;              /* the pipe's read end: the caller reads the plaintext here */
	/* how gpg ended, once spif_decrypt_pipe_finish has returned */
	int rc;              /* 0, or -1 with e */
	struct spif_err e;
	char signer[41];
	int sig_status;      /* as spif_pgp_decrypt_fd reports it */
	/* the thread's */
	int in, wr;
	pthread_t th;
};

/* Start decrypting in_fd (left open: the caller closes it after finish).
 * 0 with p->rd to read from; -1 when no pipe or thread could be had. */
int spif_decrypt_pipe_start(struct spif_decrypt_pipe *p, int in_fd, struct spif_err *err);
/* Close the read end (a decryption still writing then ends with EPIPE)
 * and wait for the thread. */
void spif_decrypt_pipe_finish(struct spif_decrypt_pipe *p);

#endif
