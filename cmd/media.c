/* media.c - spif media add | ls | retire: the registry of removable media
 * and where each is kept (保管場所).
 *
 * A medium is registered with the id written on it, its kind and its
 * designated place; with --device, the identity of its filesystem (UUID)
 * or device (serial), by which spif export knows it when an archive is
 * written onto it (lib/media.h).  Every change is an event. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_json.h"
#include "media.h"
#include "mynumber.h"

static const char usage_text[] = N_(
	"usage: spif media add ID --kind usb|dvd|hdd|other --location PLACE [--device DEV]\n"
	"       spif media ls [--json]\n"
	"       spif media retire ID [--reason TEXT]\n"
	"\n"
	"The registry of removable media that archives leave on (spif export), each\n"
	"with its designated place (保管場所).\n"
	"\n"
	"  --kind K          usb, dvd, hdd or other\n"
	"  --location PLACE  where it is kept when it is in the office\n"
	"  --device DEV      the medium, mounted (its mount point or any path on it) or\n"
	"                    as a block device: its filesystem UUID (or the device's\n"
	"                    serial) is recorded, by which spif export recognises it\n"
	"  --reason TEXT     retire: why (worn out, destroyed, lost)\n"
	"  --json            ls: one JSON object per line\n"
	"  --home DIR        the catalog's home\n"
	"\n"
	"Exit: 0 ok, 64 usage, 65 unknown or retired medium, or one with an export out,\n"
	"66 no catalog or no such device, 73 the id or its filesystem is registered\n"
	"already, 77 permission.\n");

/* A text an operator typed, going into the catalog: one line, no number. */
static void plain_text(const struct cli *c, const char *opt, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			cli_usage(c, "%s: control characters (a line break?) are not allowed", opt);
	if (spif_text_has_number(s))
		cli_usage(c, "%s holds what may be an Individual Number; the catalog never records one", opt);
}

static int cmd_add(struct cli *c, const char *id, const char *kind, const char *location, const char *device)
{
	struct spif_err e = {0};
	if (!spif_media_id_valid(id))
		cli_usage(c, "%s: a medium id is 1 to 64 letters, digits, . _ - (not starting with . or -)", id);
	if (!kind || !spif_media_kind_valid(kind))
		cli_usage(c, "add needs --kind usb, dvd, hdd or other");
	if (!location || !*location)
		cli_usage(c, "add needs --location PLACE: where the medium is kept (保管場所)");
	plain_text(c, "--location", location);
	if (device)
		plain_text(c, "--device", device);
	struct spif_fsident fs;
	if (device && spif_media_identify(device, NULL, 1, &fs, &e) < 0)
		cli_die(c, &e);
	if (device && !fs.uuid[0] && !fs.serial[0])
		cli_fail(c, SPIF_EX_DATAERR, "%s: no filesystem UUID or device serial could be read (%s%s); spif export "
		         "could not recognise it", device, fs.fstype[0] ? fs.fstype : "no filesystem",
		         fs.source[0] ? " on " : "");
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_CREATE);
	struct spif_media m = {.id = (char *)id, .kind = (char *)kind, .location = (char *)location,
	                       .uuid = device ? fs.uuid : NULL, .serial = device ? fs.serial : NULL,
	                       .device = (char *)device};
	if (spif_catalog_begin(cat, &e) < 0 || spif_media_add(cat, &m, &e) < 0 || spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_rollback(cat);
		cli_die(c, &e);
	}
	spif_catalog_close(cat);
	if (device)
		cli_note(c, "%s registered (%s, kept at %s; %s %s)", id, kind, location,
		         fs.uuid[0] ? "filesystem UUID" : "serial", fs.uuid[0] ? fs.uuid : fs.serial);
	else
		cli_note(c, "%s registered (%s, kept at %s; no device: it is known by its id only)",
		         id, kind, location);
	return 0;
}

static int ls_row(void *ctx, const struct spif_media *m)
{
	const int *json = ctx;
	if (*json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:s,s:o,s:o,s:o}", "id", m->id, "kind", m->kind,
		                      "location", m->location, "uuid", cli_jstr(m->uuid), "serial", cli_jstr(m->serial),
		                      "device", cli_jstr(m->device), "added", m->added, "added_by", m->added_by, "state",
		                      m->retired ? "retired" : "active", "retired", cli_jstr(m->retired_at), "retired_by",
		                      cli_jstr(m->retired_by), "retire_reason", cli_jstr(m->retire_reason));
		cli_print_json(j);
		return 0;
	}
	printf("%-16s %-6s %-8s %-38s ", m->id, m->kind, m->retired ? "retired" : "active",
	       m->uuid ? m->uuid : m->serial ? m->serial : "-");
	printf("%s\n", m->location);
	return 0;
}

static int cmd_ls(struct cli *c, int json)
{
	struct spif_err e = {0};
	struct spif_catalog *cat = cli_catalog(c, SPIF_CAT_READONLY);
	if (!json)
		cli_heading((const char *const[]){N_("ID"), N_("KIND"), N_("STATE"), N_("UUID/SERIAL"),
		                                  N_("LOCATION")},
		            (const int[]){-16, -6, -8, -38, 0}, 5);
	if (spif_media_list(cat, ls_row, &json, &e) < 0)
		cli_die(c, &e);
	spif_catalog_close(cat);
	return 0;
}

static int cmd_retire(struct cli *c, const char *id, const char *reason)
{
	struct spif_err e = {0};
	if (!spif_media_id_valid(id))
		cli_usage(c, "%s: not a medium id", id);
	if (reason)
		plain_text(c, "--reason", reason);
	struct spif_catalog *cat = cli_catalog(c, 0);
	if (spif_catalog_begin(cat, &e) < 0 || spif_media_retire(cat, id, reason, &e) < 0 ||
	    spif_catalog_commit(cat, &e) < 0) {
		spif_catalog_rollback(cat);
		cli_die(c, &e);
	}
	spif_catalog_close(cat);
	cli_note(c, "%s retired", id);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	cli_init(&c, "spif-media", argc, argv);
	enum { L_KIND = 256, L_LOCATION, L_DEVICE, L_REASON, L_JSON, L_HOME };
	static const struct option longopts[] = {
		{"kind", required_argument, NULL, L_KIND},     {"location", required_argument, NULL, L_LOCATION},
		{"device", required_argument, NULL, L_DEVICE}, {"reason", required_argument, NULL, L_REASON},
		{"json", no_argument, NULL, L_JSON},           {"home", required_argument, NULL, L_HOME},
		{"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
	};
	const char *kind = NULL, *location = NULL, *device = NULL, *reason = NULL;
	int json = 0, ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case L_KIND: kind = optarg; break;
		case L_LOCATION: location = optarg; break;
		case L_DEVICE: device = optarg; break;
		case L_REASON: reason = optarg; break;
		case L_JSON: json = 1; break;
		case L_HOME: c.home_opt = optarg; break;
		case 'h': cli_help(usage_text); cli_done(&c); return 0;
		default: cli_bad_option(&c, argc, argv);
		}
	}
	int n = argc - optind, rc;
	const char *sub = n ? argv[optind] : "";
	cli_permit_sub(&c, sub, NULL, NULL);
	if (strcmp(sub, "add") == 0 && n == 2) {
		if (reason || json)
			cli_usage(&c, "add takes --kind, --location and --device");
		rc = cmd_add(&c, argv[optind + 1], kind, location, device);
	} else if (strcmp(sub, "ls") == 0 && n == 1) {
		if (kind || location || device || reason)
			cli_usage(&c, "ls takes only --json");
		rc = cmd_ls(&c, json);
	} else if (strcmp(sub, "retire") == 0 && n == 2) {
		if (kind || location || device || json)
			cli_usage(&c, "retire takes only --reason");
		rc = cmd_retire(&c, argv[optind + 1], reason);
	} else
		cli_usage(&c, "expected: add ID, ls or retire ID");
	cli_done(&c);
	return rc;
}
