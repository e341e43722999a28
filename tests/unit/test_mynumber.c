/* test_mynumber.c - check digits against public vectors, the normalising
 * view, classification, and masking and refusing names (every shape the
 * detector finds, with generated numbers). */
#include "mynumber.h"
#include "tap.h"

/* A generated checksum-valid number (12 ASCII digits) from seed. */
static void gen_number(unsigned seed, char out[13])
{
	for (int i = 0; i < 11; i++) {
		seed = seed * 1103515245u + 12345u;
		out[i] = (char)('0' + (seed >> 16) % 10);
	}
	out[11] = (char)('0' + spif_mynumber_check_digit(out));
	out[12] = '\0';
}

/* Does s still hold one of the digits of a number written at its offset
 * at..at+len?  (After masking: none may be left.) */
static int digit_left(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p >= '0' && *p <= '9') || (p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0x90 && p[2] <= 0x99))
			return 1;
	return 0;
}

int main(void)
{
	static const char *valid[] = {"123456789018", "621498320257", "614106526000", "510136263801",
		"060122228102", "362473502703", "467430101604", "763727588705", "734220726006",
		"450817747707", "207304711608", "407508284309"};
	static const char *invalid[] = {"621498320258", "123456789010", "614106526006", "510136263805",
		"060122228103", "362473502704", "467430101602"};
	for (size_t i = 0; i < sizeof valid / sizeof *valid; i++)
		ok(spif_mynumber_valid(valid[i], 12), "valid individual number vector %zu", i);
	for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++)
		ok(!spif_mynumber_valid(invalid[i], 12), "invalid individual number vector %zu", i);
	is_int(spif_mynumber_check_digit("12345678901"), 8, "worked example 12345678901 -> 8");
	for (int d = 0; d <= 9; d++) {
		char s[13] = "12345678901";
		s[11] = (char)('0' + d);
		s[12] = 0;
		ok(spif_mynumber_valid(s, 12) == (d == 8), "only check digit 8 for 12345678901 (%d)", d);
	}
	ok(!spif_mynumber_valid("6214983202", 10), "too short is invalid");
	ok(!spif_mynumber_valid("62149832025X", 12), "letter is invalid");

	static const char *cvalid[] = {"5835678256246", "9234567890123", "7123456789012", "1180301018771",
		"4011001098993"};
	static const char *cinvalid[] = {"2835678256246", "1234567890123", "0123456789012"};
	for (size_t i = 0; i < sizeof cvalid / sizeof *cvalid; i++)
		ok(spif_corpnum_valid(cvalid[i], 13), "valid corporate number vector %zu", i);
	for (size_t i = 0; i < sizeof cinvalid / sizeof *cinvalid; i++)
		ok(!spif_corpnum_valid(cinvalid[i], 13), "invalid corporate number vector %zu", i);
	is_int(spif_corpnum_check_digit("123456789012"), 7, "corporate worked example -> 7");

	char out[14];
	struct { const char *in; const char *want; int n; } views[] = {
		{"621498320257", "621498320257", 12},
		{"６２１４９８３２０２５７", "621498320257", 12},
		{"6214-9832-0257", "621498320257", 12},
		{"6214 9832 0257", "621498320257", 12},
		{"６２１４－９８３２－０２５７", "621498320257", 12},
		{"6214ー9832ー0257", "621498320257", 12},
		{"6214\xe3\x80\x80" "9832\xe3\x80\x80" "0257", "621498320257", 12},
		{"6214‐9832−0257", "621498320257", 12},
		{"６２１４-9832 ０２５７", "621498320257", 12},
		{"  621498320257 ", "621498320257", 12},
		{"", "", 0},
		{"   ", "", 0},
		{"62149-832-0257", NULL, -1},
		{"6214--9832-0257", NULL, -1},
		{"-621498320257", NULL, -1},
		{"62149832025a", NULL, -1},
		{"12345678901234", NULL, -1},
		{"5-8356-7825-6246", "5835678256246", 13},
		{"6214.9832.0257", "621498320257", 12},
		{"６２１４．９８３２．０２５７", "621498320257", 12},
		{"6214.98320257", NULL, -1},
		{"6214\xC2\xA0" "9832\xC2\xA0" "0257", "621498320257", 12},
		{"6214\xE2\x80\x89" "9832\xE2\x80\x89" "0257", "621498320257", 12},
		{"6214_9832_0257", "621498320257", 12},
		{"6214\xE3\x83\xBB" "9832\xE3\x83\xBB" "0257", "621498320257", 12},
		{"\xC2\xA0" "621498320257\xE2\x80\xAF", "621498320257", 12},
		{"6214/9832/0257", NULL, -1},
		{"6214,9832,0257", NULL, -1},
		{"6214\n9832\n0257", NULL, -1},
	};
	for (size_t i = 0; i < sizeof views / sizeof *views; i++) {
		int n = spif_number_view(views[i].in, strlen(views[i].in), out);
		is_int(n, views[i].n, "view of case %zu: digit count", i);
		if (views[i].want && n >= 0)
			is_str(out, views[i].want, "view of case %zu: digits", i);
	}

	uint64_t key = 0;
	is_int(spif_number_classify("621498320257", 12, 0, &key), SPIF_NUM_PERSONAL, "classify valid");
	ok(key == 621498320257ULL, "classify gives the key");
	is_int(spif_number_classify("621498320258", 12, 0, NULL), SPIF_NUM_BAD_CHECK, "classify bad check");
	is_int(spif_number_classify("62149832025", 11, 0, NULL), SPIF_NUM_BAD_LENGTH, "classify 11 digits");
	is_int(spif_number_classify("abc", 3, 0, NULL), SPIF_NUM_NOT_DIGITS, "classify letters");
	is_int(spif_number_classify("6214983202X7", 12, 0, NULL), SPIF_NUM_NOT_DIGITS, "classify letter inside");
	is_int(spif_number_classify("", 0, 0, NULL), SPIF_NUM_EMPTY, "classify empty");
	is_int(spif_number_classify("5835678256246", 13, 1, NULL), SPIF_NUM_CORPORATE, "corporate allowed");
	is_int(spif_number_classify("5835678256246", 13, 0, NULL), SPIF_NUM_BAD_LENGTH, "corporate not allowed");
	is_int(spif_number_classify("2835678256246", 13, 1, NULL), SPIF_NUM_BAD_CHECK, "corporate bad check");
	ok(strstr(spif_numval_reason(SPIF_NUM_BAD_CHECK), "check digit") != NULL, "reason text");

	char m1[] = "spif ingest --number-field 621498320257 x.csv";
	is_int(spif_mask_numbers(m1), 1, "mask: one run");
	is_str(m1, "spif ingest --number-field ************ x.csv", "mask: digits starred");
	char m2[] = "a=6214-9832-0257,b=１２３４５６７８９０１８,c=12345";
	is_int(spif_mask_numbers(m2), 2, "mask: separated and full-width runs");
	is_str(m2, "a=****-****-****,b=＊＊＊＊＊＊＊＊＊＊＊＊,c=12345", "mask: forms kept, short run kept");
	char m3[] = "2026-11-21 F000001 12345678901";
	is_int(spif_mask_numbers(m3), 0, "mask: dates and 11 digits untouched");
	char m4[] = "x 5835678256246123 y";
	is_int(spif_mask_numbers(m4), 1, "mask: long runs masked");
	is_str(m4, "x **************** y", "mask: whole long run");
	{
		/* the shapes the masking used to miss, with generated numbers:
		 * the detector finds them, so the masking removes every digit of
		 * them, and a path holding one is refused */
		char n1[13], a[4][5];
		gen_number(42, n1);
		for (int k = 0; k < 3; k++)
			snprintf(a[k], 5, "%.4s", n1 + 4 * k);
		/* prefix, separators between the groups of 4, and what masking gives */
		struct { const char *pre, *s1, *s2, *want; } shapes[] = {
			{"0312 ", "-", "-", "**** ****-****-****"},
			{"1234-5678 ", "-", "-", "****-**** ****-****-****"},
			{"1600 ", "-", "-", "**** ****-****-****"},
			{"", "", "-", "******-******"}, /* 6-6: 123456-789018 */
			{"", "_", "_", "****_****_****"},
			{"", "/", "/", "****/****/****"},
			{"", "", "\xE3\x80\x80", "********\xE3\x80\x80****"}, /* 8-4, ideographic space */
		};
		for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
			char buf[96], path[128];
			snprintf(buf, sizeof buf, "%s%s%s%s%s%s", shapes[i].pre, a[0], shapes[i].s1, a[1], shapes[i].s2, a[2]);
			if (i == 3) /* 123456-789018 */
				snprintf(buf, sizeof buf, "%.6s-%.6s", n1, n1 + 6);
			snprintf(path, sizeof path, "/data/d%s/x.csv", buf);
			ok(spif_text_has_number(buf), "shape %zu: has a number", i);
			ok(spif_text_has_number(path), "shape %zu: in a directory name, refused", i);
			is_int(spif_mask_numbers(buf), 1, "shape %zu: one run masked", i);
			is_str(buf, shapes[i].want, "shape %zu: every digit masked", i);
		}
		/* every separator kind, one grouping each, and the full-width view */
		static const char *const seps[] = {"-", "\xE2\x80\x93", "\xE2\x88\x92", "\xEF\xBC\x8D", "\xE3\x83\xBC",
			"\xEF\xBD\xB0", "\xE2\x81\x83", "\xEF\xB9\x98", "\xEF\xB9\xA3", ".", "\xEF\xBC\x8E", "\xE3\x83\xBB",
			"\xEF\xBD\xA5", " ", "\xC2\xA0", "\xE2\x80\x89", "\xE2\x80\xAF", "\xE3\x80\x80", "_", "\xEF\xBC\xBF",
			"\xE2\x80\x8B", "/", "\xEF\xBC\x8F", ",", "\xEF\xBC\x8C", "\xE3\x80\x81", "\n", "\r\n", "\t",
			"--", " - ", "\xE3\x80\x80\xE3\x80\x80"};
		static const int groupings[][7] = {{3, 4, 4, 4}, {4, 3, 3, 3, 3}, {2, 6, 6}, {6, 2, 2, 2, 2, 2, 2},
			{2, 8, 4}, {3, 2, 5, 5}};
		int bad = 0, tried = 0;
		for (size_t i = 0; i < sizeof seps / sizeof seps[0]; i++)
			for (size_t j = 0; j < sizeof groupings / sizeof groupings[0]; j++) {
				char num[13], buf[256];
				gen_number(100 + (unsigned)(i * 7 + j), num);
				size_t o = snprintf(buf, sizeof buf, "label "), at = 0;
				for (int g = 0; g < groupings[j][0]; g++) {
					if (g)
						o += (size_t)snprintf(buf + o, sizeof buf - o, "%s", seps[i]);
					o += (size_t)snprintf(buf + o, sizeof buf - o, "%.*s", groupings[j][g + 1], num + at);
					at += (size_t)groupings[j][g + 1];
				}
				snprintf(buf + o, sizeof buf - o, " end");
				tried++;
				if (!spif_text_has_number(buf) || spif_mask_numbers(buf) != 1 || digit_left(buf))
					bad++;
			}
		is_int(bad, 0, "every separator and grouping: found and masked (%d tried)", tried);
		char fw[64] = "", *p = fw;
		for (int k = 0; k < 12; k++)
			p += sprintf(p, "\xEF\xBC%c", (char)(0x90 + n1[k] - '0'));
		ok(spif_text_has_number(fw), "full-width digits: a number");
		char fwpath[96];
		snprintf(fwpath, sizeof fwpath, "/data/%s.csv", fw);
		ok(spif_text_has_number(fwpath), "a full-width-digit file name is refused");
		/* what stays as it was */
		char keep1[] = "2024,2025,2026年度分";
		is_int(spif_mask_numbers(keep1), 0, "three years in a list: untouched");
		char keep2[] = "--before 2026-11-21 --after 2025-04-01";
		is_int(spif_mask_numbers(keep2), 0, "dates: untouched");
		char wrong[13];
		memcpy(wrong, n1, 13);
		wrong[11] = (char)('0' + (wrong[11] - '0' + 1) % 10);
		char keep3[64];
		snprintf(keep3, sizeof keep3, "%.4s/%.4s/%.4s", wrong, wrong + 4, wrong + 8);
		is_int(spif_mask_numbers(keep3), 0, "a wrong check digit split by slashes: untouched");
		ok(!spif_text_has_number(keep3), "... and no number");
		snprintf(keep3, sizeof keep3, "%.4s-%.4s-%.4s", wrong, wrong + 4, wrong + 8);
		ok(!spif_text_has_number(keep3), "a wrong check digit, 4-4-4 with dashes: no number");
		is_int(spif_mask_numbers(keep3), 1, "... but masked all the same, as always");
		/* masking a window can leave 12 digits that make a run of their
		 * own: masked too */
		char rev[128];
		snprintf(rev, sizeof rev, "%.2s %.2s %.2s %.2s %.2s %.2s 2026-1016-0001", n1, n1 + 2, n1 + 4, n1 + 6,
		         n1 + 8, n1 + 10);
		ok(spif_text_has_number(rev), "2-2-2-2-2-2 before a 4-4-4: a number (once the 4-4-4 is masked)");
		spif_mask_numbers(rev);
		ok(!digit_left(rev), "... and masked: %s", rev);
	}
	ok(spif_text_has_number("/data/621498320257.csv"), "path with a valid number");
	ok(spif_text_has_number("/data/6214-9832-0257.csv"), "path with a 4-4-4 number");
	ok(!spif_text_has_number("/data/621498320258.csv"), "path with a wrong check digit");
	ok(!spif_text_has_number("/data/20261121123456.csv"), "path with a 14-digit timestamp");
	ok(!spif_text_has_number("/data/F000001.csv"), "path with a file id");
	ok(spif_is_number_field_name("扶養親族1_個人番号"), "field name: 扶養親族1_個人番号");
	ok(spif_is_number_field_name("受給者のマイナンバー"), "field name: マイナンバー");
	ok(spif_is_number_field_name("Employee_My_Number"), "field name: My_Number, any case");
	ok(spif_is_number_field_name("kojin_bango"), "field name: kojin_bango");
	ok(!spif_is_number_field_name("受給者番号"), "field name: 受給者番号 is not one");
	{
		static const char *const yes[] = {
			"個人番号", "受給者の個人番号", "提出義務者の個人番号又は法人番号", "個人識別番号",
			"共通番号", "マイナンバー", "ﾏｲﾅﾝﾊﾞｰ", "マイナンバー番号", "被保険者マイナンバー",
			"my number", "My Number", "MyNumber", "MYNUMBER", "my-number", "My_Number",
			"EmployeeMyNumber", "employee my number", "kojin bango", "KojinBango",
			"individual_number", "個人番号（本人）", "個人番号(配偶者)", "個人番号_1", "個人番号１",
			"マイナンバー【扶養親族】", "my_number (spouse)", "個人番号欄", "個人番号カードの個人番号",
			"個人番号：",
		};
		static const char *const no[] = {
			"個人番号カード交付日", "個人番号確認済", "通知カード番号", "マイナンバーカード番号",
			"個人番号カード", "個人番号の有無", "共通番号制度", "my_number_verified", "MyNumberCard",
			"dummy_number", "summy number", "受給者番号", "法人番号", "個人番号（本人", "番号",
		};
		for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
			ok(spif_is_number_field_name(yes[i]), "field name: %s is a number field", yes[i]);
		for (size_t i = 0; i < sizeof no / sizeof *no; i++)
			ok(!spif_is_number_field_name(no[i]), "field name: %s is not", no[i]);
	}
	ok(spif_number_field_allows_corporate("提出義務者の個人番号又は法人番号"), "corporate allowed by name");
	ok(!spif_number_field_allows_corporate("受給者の個人番号"), "corporate not allowed by name");
	return tap_done();
}
