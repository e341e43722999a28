/* note.h - C2SP signed notes with Ed25519 keys, and tlog checkpoints.
 *
 * A signed note is UTF-8 text ending in a newline, a blank line, then one
 * line per signature: "— NAME BASE64(KEYHASH[4] || SIGNATURE[64])".  The
 * key hash is the first four bytes of SHA-256(NAME || "\n" || 0x01 ||
 * PUBLIC[32]); 0x01 names Ed25519.  A verifier key is written
 * "NAME+HEX8(KEYHASH)+BASE64(0x01 || PUBLIC)" and a signer key
 * "PRIVATE+KEY+NAME+HEX8(KEYHASH)+BASE64(0x01 || SEED[32])": the forms of
 * c2sp.org/signed-note (and Go's golang.org/x/mod/sumdb/note), so that any
 * note verifier can check spif's checkpoints with the key that
 * `spif catalog key export` prints; the unit test signs Go's published
 * example byte for byte.
 *
 * A checkpoint (c2sp.org/tlog-checkpoint) is a note whose text is the
 * origin line, the tree size in decimal, the root hash in base64, and
 * optional extension lines.
 *
 * Ed25519 through libgcrypt.  A seed is secret: callers keep it in memory
 * they clear with explicit_bzero (spif_note_signer_clear). */
#ifndef SPIF_NOTE_H
#define SPIF_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "merkle.h"

#define SPIF_NOTE_NAME_MAX 128

struct spif_note_verifier {
	char name[SPIF_NOTE_NAME_MAX];
	uint32_t keyhash;
	unsigned char pub[32];
};
struct spif_note_signer {
	struct spif_note_verifier v;
	unsigned char seed[32];
};

/* A fresh key pair for name (no spaces, no '+', no newline). */
int spif_note_generate(const char *name, struct spif_note_signer *s, struct spif_err *err);
/* The signer for a seed (derives the public key and key hash). */
int spif_note_signer_from_seed(const char *name, const unsigned char seed[32],
                               struct spif_note_signer *s, struct spif_err *err);
void spif_note_signer_clear(struct spif_note_signer *s);

/* Text forms; malloc'd strings (free them; the signer's with explicit_bzero). */
char *spif_note_verifier_text(const struct spif_note_verifier *v);
char *spif_note_signer_text(const struct spif_note_signer *s);
int spif_note_verifier_parse(const char *text, struct spif_note_verifier *v, struct spif_err *err);
int spif_note_signer_parse(const char *text, struct spif_note_signer *s, struct spif_err *err);

/* Sign text[0, n) (must end in '\n', no blank line needed) and return the
 * whole note, malloc'd: text, a blank line, the signature line. */
int spif_note_sign(const struct spif_note_signer *s, const char *text, size_t n, char **note,
                   struct spif_err *err);
/* Check note[0, n): 0 when one of its signatures is v's and verifies; then
 * *text_len is the length of the signed text (note[0, *text_len)).
 * SPIF_EX_DATAERR with the reason otherwise (malformed, no signature by
 * this key, a signature that does not verify). */
int spif_note_open(const char *note, size_t n, const struct spif_note_verifier *v, size_t *text_len,
                   struct spif_err *err);

/* A checkpoint's text (origin must be one line); malloc'd. */
char *spif_checkpoint_text(const char *origin, uint64_t size, const spif_hash root);
/* Parse a checkpoint's text (the note's text, signatures removed). */
int spif_checkpoint_parse(const char *text, size_t n, char origin[SPIF_NOTE_NAME_MAX],
                          uint64_t *size, spif_hash root, struct spif_err *err);

#endif
