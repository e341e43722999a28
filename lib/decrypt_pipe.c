/* decrypt_pipe.c - see decrypt_pipe.h. */
#include "decrypt_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "pgp.h"
#include "record.h"

static void *decrypt_thread(void *arg)
{
	struct spif_decrypt_pipe *p = arg;
	spif_thread_block_sigpipe(); /* a reader that stops early closes its end */
	p->rc = spif_pgp_decrypt_fd(p->in, spif_sink_fd, &p->wr, NULL, p->signer, &p->sig_status, &p->e);
	close(p->wr);
	return NULL;
}

int spif_decrypt_pipe_start(struct spif_decrypt_pipe *p, int in_fd, struct spif_err *err)
{
	memset(p, 0, sizeof *p);
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return spif_err_sys(err, SPIF_EX_SOFTWARE, errno, "pipe");
	(void)fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
	p->rd = fds[0];
	p->wr = fds[1];
	p->in = in_fd;
	if (pthread_create(&p->th, NULL, decrypt_thread, p) != 0) {
		close(fds[0]);
		close(fds[1]);
		return spif_err_set(err, SPIF_EX_SOFTWARE, "cannot start a thread");
	}
	return 0;
}

void spif_decrypt_pipe_finish(struct spif_decrypt_pipe *p)
{
	close(p->rd);
	pthread_join(p->th, NULL);
}
