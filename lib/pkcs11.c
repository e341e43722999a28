/* pkcs11.c - see pkcs11.h */
#include "pkcs11.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit-1/p11-kit/pkcs11.h>

struct spif_p11 {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;
	int initialized, logged_in, open;
	char module[4096];
	char label[33];
};

/* A PKCS#11 return value as words (the ones a person may meet). */
static const char *rv_name(CK_RV rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT: return "wrong PIN";
	case CKR_PIN_LOCKED: return "PIN locked";
	case CKR_PIN_EXPIRED: return "PIN expired";
	case CKR_USER_PIN_NOT_INITIALIZED: return "user PIN not initialised";
	case CKR_TOKEN_NOT_PRESENT: return "token not present";
	case CKR_DEVICE_REMOVED: return "device removed";
	case CKR_DEVICE_ERROR: return "device error";
	case CKR_DEVICE_MEMORY: return "token memory full";
	case CKR_MECHANISM_INVALID: return "mechanism not supported";
	case CKR_KEY_FUNCTION_NOT_PERMITTED: return "key function not permitted";
	case CKR_ATTRIBUTE_SENSITIVE: return "attribute sensitive";
	case CKR_OBJECT_HANDLE_INVALID: return "object handle invalid";
	case CKR_ENCRYPTED_DATA_INVALID: return "wrapped data invalid";
	case CKR_WRAPPED_KEY_INVALID: return "wrapped key invalid";
	default: return NULL;
	}
}

static int p11_fail(struct spif_err *err, int code, CK_RV rv, const char *what, const struct spif_p11 *p)
{
	const char *n = rv_name(rv);
	if (n)
		return spif_err_set(err, code, "pkcs11: token \"%s\": %s: %s", p ? p->label : "?", what, n);
	return spif_err_set(err, code, "pkcs11: token \"%s\": %s: error 0x%lx", p ? p->label : "?", what,
	                    (unsigned long)rv);
}

/* A blank-padded PKCS#11 string field as a C string. */
static void field(const unsigned char *src, size_t n, char *out, size_t outn)
{
	size_t k = n < outn - 1 ? n : outn - 1;
	memcpy(out, src, k);
	while (k && (out[k - 1] == ' ' || out[k - 1] == '\0'))
		k--;
	out[k] = '\0';
}

int spif_p11_open(const char *module, const char *label, const char *pin, struct spif_p11 **out,
                  struct spif_err *err)
{
	*out = NULL;
	struct spif_p11 *p = calloc(1, sizeof *p);
	if (!p)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "out of memory");
	snprintf(p->module, sizeof p->module, "%s", module);
	snprintf(p->label, sizeof p->label, "%s", label);
	p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "pkcs11: cannot load the module %s", module);
		goto fail;
	}
	CK_C_GetFunctionList gfl;
	*(void **)&gfl = dlsym(p->dl, "C_GetFunctionList");
	if (!gfl || gfl(&p->f) != CKR_OK || !p->f) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "pkcs11: %s is not a PKCS#11 module", module);
		goto fail;
	}
	CK_C_INITIALIZE_ARGS args;
	memset(&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	CK_RV rv = p->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "initialising the module", p);
		goto fail;
	}
	p->initialized = rv == CKR_OK;
	CK_ULONG n = 0;
	rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n);
	CK_SLOT_ID *slots = n ? calloc(n, sizeof *slots) : NULL;
	if (rv == CKR_OK && n && slots)
		rv = p->f->C_GetSlotList(CK_TRUE, slots, &n);
	int found = 0;
	for (CK_ULONG i = 0; rv == CKR_OK && i < n && !found; i++) {
		CK_TOKEN_INFO ti;
		char l[33];
		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		field(ti.label, sizeof ti.label, l, sizeof l);
		if (strcmp(l, label) == 0 && (ti.flags & CKF_TOKEN_INITIALIZED)) {
			p->slot = slots[i];
			found = 1;
		}
	}
	free(slots);
	if (!found) {
		spif_err_set(err, SPIF_EX_UNAVAILABLE, "pkcs11: no token labelled \"%s\" in %s", label, module);
		goto fail;
	}
	rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &p->s);
	if (rv != CKR_OK) {
		p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "opening a session", p);
		goto fail;
	}
	p->open = 1;
	rv = p->f->C_Login(p->s, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "login", p);
		goto fail;
	}
	p->logged_in = rv == CKR_OK;
	*out = p;
	return 0;
fail:
	spif_p11_close(p);
	return -1;
}

void spif_p11_close(struct spif_p11 *p)
{
	if (!p)
		return;
	if (p->f) {
		if (p->logged_in)
			p->f->C_Logout(p->s);
		if (p->open)
			p->f->C_CloseSession(p->s);
		if (p->initialized)
			p->f->C_Finalize(NULL);
	}
	/* the module stays loaded: some (SoftHSM's OpenSSL back end among
	 * them) register exit handlers that must find their code mapped */
	free(p);
}

/* SoftHSM keeps its objects as files: where, from its configuration. */
static void softhsm_dir(char *out, size_t n)
{
	out[0] = '\0';
	const char *conf = getenv("SOFTHSM2_CONF");
	FILE *f = fopen(conf && *conf ? conf : "/etc/softhsm/softhsm2.conf", "re");
	if (!f)
		return;
	char line[4096];
	while (fgets(line, sizeof line, f)) {
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (strncmp(s, "directories.tokendir", 20) != 0)
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			continue;
		eq++;
		while (*eq == ' ' || *eq == '\t')
			eq++;
		size_t l = strcspn(eq, "\r\n#");
		while (l && (eq[l - 1] == ' ' || eq[l - 1] == '\t'))
			l--;
		snprintf(out, n, "%.*s", (int)l, eq);
	}
	fclose(f);
}

json_t *spif_p11_describe(struct spif_p11 *p)
{
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;
	char man[64] = "", model[32] = "", serial[32] = "";
	int hw = 0;
	if (p->f->C_GetTokenInfo(p->slot, &ti) == CKR_OK) {
		field(ti.manufacturerID, sizeof ti.manufacturerID, man, sizeof man);
		field(ti.model, sizeof ti.model, model, sizeof model);
		field(ti.serialNumber, sizeof ti.serialNumber, serial, sizeof serial);
	}
	if (p->f->C_GetSlotInfo(p->slot, &si) == CKR_OK)
		hw = (si.flags & CKF_HW_SLOT) != 0;
	/* SoftHSM says its slots are hardware ones: its name says otherwise */
	int soft = strstr(model, "SoftHSM") != NULL || strstr(man, "SoftHSM") != NULL;
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "label", p->label, "manufacturer", man, "model", model,
	                      "serial", serial, "hardware", hw && !soft, "module", p->module);
	if (soft) {
		char dir[4096];
		softhsm_dir(dir, sizeof dir);
		json_object_set_new(j, "token_files", dir[0] ? json_string(dir) : json_null());
	}
	return j;
}

int spif_p11_find(struct spif_p11 *p, const char *label, unsigned long *obj, struct spif_err *err)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof cls},
		{CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
	};
	CK_RV rv = p->f->C_FindObjectsInit(p->s, t, 2);
	if (rv != CKR_OK)
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "looking up a key", p);
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;
	rv = p->f->C_FindObjects(p->s, h, 2, &n);
	p->f->C_FindObjectsFinal(p->s);
	if (rv != CKR_OK)
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "looking up a key", p);
	if (n == 0)
		return 1;
	if (n > 1)
		return spif_err_set(err, SPIF_EX_DATAERR, "pkcs11: token \"%s\": two keys labelled %s", p->label, label);
	*obj = h[0];
	return 0;
}

int spif_p11_create(struct spif_p11 *p, const char *label, const unsigned char id[16],
                    const unsigned char *value, unsigned long *obj, struct spif_err *err)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG len = 32;
	unsigned char v[32];
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof cls},
		{CKA_KEY_TYPE, &kt, sizeof kt},
		{CKA_TOKEN, &yes, sizeof yes},
		{CKA_PRIVATE, &yes, sizeof yes},
		{CKA_SENSITIVE, &yes, sizeof yes},
		{CKA_EXTRACTABLE, &no, sizeof no},
		{CKA_MODIFIABLE, &no, sizeof no},
		{CKA_WRAP, &yes, sizeof yes},
		{CKA_UNWRAP, &yes, sizeof yes},
		{CKA_ENCRYPT, &no, sizeof no},
		{CKA_DECRYPT, &no, sizeof no},
		{CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
		{CKA_ID, (void *)id, 16},
		{value ? CKA_VALUE : CKA_VALUE_LEN, value ? (void *)v : (void *)&len, value ? 32 : sizeof len},
	};
	CK_OBJECT_HANDLE h;
	CK_RV rv;
	if (value) {
		memcpy(v, value, 32);
		rv = p->f->C_CreateObject(p->s, t, sizeof t / sizeof *t, &h);
		explicit_bzero(v, sizeof v);
	} else {
		CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
		rv = p->f->C_GenerateKey(p->s, &m, t, sizeof t / sizeof *t, &h);
	}
	if (rv != CKR_OK)
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "creating a key", p);
	*obj = h;
	return 0;
}

int spif_p11_id(struct spif_p11 *p, unsigned long obj, unsigned char id[16], struct spif_err *err)
{
	unsigned char buf[64];
	CK_ATTRIBUTE t = {CKA_ID, buf, sizeof buf};
	CK_RV rv = p->f->C_GetAttributeValue(p->s, obj, &t, 1);
	if (rv != CKR_OK)
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "reading a key's id", p);
	memset(id, 0, 16);
	memcpy(id, buf, t.ulValueLen < 16 ? t.ulValueLen : 16);
	return 0;
}

/* A session object holding a data key, for one wrap or unwrap. */
static void dk_template(CK_ATTRIBUTE *t, CK_OBJECT_CLASS *cls, CK_KEY_TYPE *kt, CK_BBOOL *yes, CK_BBOOL *no)
{
	*cls = CKO_SECRET_KEY;
	*kt = CKK_AES;
	*yes = CK_TRUE;
	*no = CK_FALSE;
	CK_ATTRIBUTE a[] = {
		{CKA_CLASS, cls, sizeof *cls},   {CKA_KEY_TYPE, kt, sizeof *kt},
		{CKA_TOKEN, no, sizeof *no},     {CKA_SENSITIVE, no, sizeof *no},
		{CKA_EXTRACTABLE, yes, sizeof *yes},
	};
	memcpy(t, a, sizeof a);
}

int spif_p11_wrap(struct spif_p11 *p, unsigned long obj, const unsigned char dk[32], unsigned char out[40],
                  struct spif_err *err)
{
	CK_ATTRIBUTE t[6];
	CK_OBJECT_CLASS cls;
	CK_KEY_TYPE kt;
	CK_BBOOL yes, no;
	unsigned char v[32];
	dk_template(t, &cls, &kt, &yes, &no);
	memcpy(v, dk, 32);
	t[5] = (CK_ATTRIBUTE){CKA_VALUE, v, 32};
	CK_OBJECT_HANDLE h;
	CK_RV rv = p->f->C_CreateObject(p->s, t, 6, &h);
	explicit_bzero(v, sizeof v);
	if (rv != CKR_OK)
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "wrapping a data key", p);
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_ULONG n = 40;
	rv = p->f->C_WrapKey(p->s, &m, obj, h, out, &n);
	p->f->C_DestroyObject(p->s, h);
	if (rv == CKR_OK && n != 40)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "pkcs11: token \"%s\": a wrapped key of %lu bytes", p->label,
		                    (unsigned long)n);
	if (rv != CKR_OK)
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "wrapping a data key", p);
	return 0;
}

int spif_p11_unwrap(struct spif_p11 *p, unsigned long obj, const unsigned char in[40], unsigned char dk[32],
                    struct spif_err *err)
{
	CK_ATTRIBUTE t[5];
	CK_OBJECT_CLASS cls;
	CK_KEY_TYPE kt;
	CK_BBOOL yes, no;
	dk_template(t, &cls, &kt, &yes, &no);
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_OBJECT_HANDLE h;
	unsigned char w[40];
	memcpy(w, in, 40);
	CK_RV rv = p->f->C_UnwrapKey(p->s, &m, obj, w, 40, t, 5, &h);
	if (rv == CKR_WRAPPED_KEY_INVALID || rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_WRAPPED_KEY_LEN_RANGE ||
	    rv == CKR_DATA_INVALID || rv == CKR_GENERAL_ERROR)
		return 1; /* SoftHSM reports a failed integrity check as a general error */
	if (rv != CKR_OK)
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "unwrapping a data key", p);
	CK_ATTRIBUTE a = {CKA_VALUE, dk, 32};
	rv = p->f->C_GetAttributeValue(p->s, h, &a, 1);
	p->f->C_DestroyObject(p->s, h);
	if (rv != CKR_OK || a.ulValueLen != 32) {
		explicit_bzero(dk, 32);
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "unwrapping a data key", p);
	}
	return 0;
}

int spif_p11_destroy(struct spif_p11 *p, unsigned long obj, struct spif_err *err)
{
	CK_RV rv = p->f->C_DestroyObject(p->s, obj);
	if (rv != CKR_OK)
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "destroying a key", p);
	return 0;
}

int spif_p11_list(struct spif_p11 *p, const char *prefix,
                  int (*fn)(void *ctx, const char *label, unsigned long obj), void *ctx, struct spif_err *err)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof cls};
	CK_RV rv = p->f->C_FindObjectsInit(p->s, &t, 1);
	if (rv != CKR_OK)
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "listing keys", p);
	/* collect first: a callback may destroy objects */
	CK_OBJECT_HANDLE *hs = NULL;
	size_t nh = 0, cap = 0;
	for (;;) {
		CK_OBJECT_HANDLE h[64];
		CK_ULONG n = 0;
		rv = p->f->C_FindObjects(p->s, h, 64, &n);
		if (rv != CKR_OK || n == 0)
			break;
		if (nh + n > cap) {
			cap = (nh + n) * 2;
			CK_OBJECT_HANDLE *v = realloc(hs, cap * sizeof *v);
			if (!v) {
				rv = CKR_HOST_MEMORY;
				break;
			}
			hs = v;
		}
		memcpy(hs + nh, h, n * sizeof *h);
		nh += n;
	}
	p->f->C_FindObjectsFinal(p->s);
	if (rv != CKR_OK) {
		free(hs);
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "listing keys", p);
	}
	int ret = 0;
	for (size_t i = 0; i < nh && !ret; i++) {
		char l[256];
		CK_ATTRIBUTE a = {CKA_LABEL, l, sizeof l - 1};
		if (p->f->C_GetAttributeValue(p->s, hs[i], &a, 1) != CKR_OK || a.ulValueLen >= sizeof l)
			continue;
		l[a.ulValueLen] = '\0';
		if (strncmp(l, prefix, strlen(prefix)) == 0)
			ret = fn(ctx, l, hs[i]);
	}
	free(hs);
	return ret;
}

int spif_p11_key_attrs(struct spif_p11 *p, unsigned long obj, int *extractable, int *sensitive,
                       int *value_refused, struct spif_err *err)
{
	CK_BBOOL ex = CK_TRUE, se = CK_FALSE;
	CK_ATTRIBUTE a[] = {{CKA_EXTRACTABLE, &ex, sizeof ex}, {CKA_SENSITIVE, &se, sizeof se}};
	CK_RV rv = p->f->C_GetAttributeValue(p->s, obj, a, 2);
	if (rv != CKR_OK)
		return p11_fail(err, SPIF_EX_UNAVAILABLE, rv, "reading a key's attributes", p);
	*extractable = ex == CK_TRUE;
	*sensitive = se == CK_TRUE;
	unsigned char v[64];
	CK_ATTRIBUTE val = {CKA_VALUE, v, sizeof v};
	rv = p->f->C_GetAttributeValue(p->s, obj, &val, 1);
	*value_refused = rv != CKR_OK || val.ulValueLen == (CK_ULONG)-1;
	explicit_bzero(v, sizeof v);
	return 0;
}
