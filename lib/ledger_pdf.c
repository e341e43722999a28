/* ledger_pdf.c - see ledger_pdf.h */
#include "ledger_pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A4 in points, the margins, and the parts of a page (points). */
#define A4_SHORT 595.28
#define A4_LONG 841.89
#define MARGIN 34.0
#define STAMP 56.0      /* a stamp box's side */
#define STAMP_LABEL 13.0
#define FOOT 20.0       /* the footer: two lines */
#define PAD 2.5         /* inside a cell */
#define TABLE_FONT "IPAexGothic 9"
#define HEAD_FONT "IPAexGothic Bold 9"
#define BODY_FONT "IPAGothic 9"
#define TITLE_FONT "IPAexGothic Bold 16"
#define SUB_FONT "IPAexGothic 9.5"
#define FOOT_FONT "IPAexGothic 7.5"

struct out {
	int fd;
	int err;         /* errno of a failed write */
};

static cairo_status_t put(void *closure, const unsigned char *p, unsigned int n)
{
	struct out *o = closure;
	while (n) {
		ssize_t w = write(o->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->err = w < 0 ? errno : EIO;
			return CAIRO_STATUS_WRITE_ERROR;
		}
		p += w;
		n -= (unsigned)w;
	}
	return CAIRO_STATUS_SUCCESS;
}

struct page {
	double w, h;
	cairo_t *cr;
	PangoLayout *lay;
};

static void set_font(struct page *pg, const char *font)
{
	PangoFontDescription *d = pango_font_description_from_string(font);
	pango_layout_set_font_description(pg->lay, d);
	pango_font_description_free(d);
}

/* Height of text set in font over width (points; width <= 0: no wrap). */
static double measure(struct page *pg, const char *font, const char *text, double width)
{
	set_font(pg, font);
	pango_layout_set_width(pg->lay, width > 0 ? (int)(width * PANGO_SCALE) : -1);
	pango_layout_set_wrap(pg->lay, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_text(pg->lay, text, -1);
	int w, h;
	pango_layout_get_size(pg->lay, &w, &h);
	return (double)h / PANGO_SCALE;
}

static double text_at(struct page *pg, const char *font, const char *text, double x, double y, double width,
                      PangoAlignment align)
{
	double h = measure(pg, font, text, width);
	pango_layout_set_alignment(pg->lay, align);
	cairo_move_to(pg->cr, x, y);
	pango_cairo_show_layout(pg->cr, pg->lay);
	pango_layout_set_alignment(pg->lay, PANGO_ALIGN_LEFT);
	return h;
}

/* Title and subtitle; the y below them. */
static double header(struct page *pg, const struct spif_table *t, int draw)
{
	double y = MARGIN, wd = pg->w - 2 * MARGIN;
	y += (draw ? text_at(pg, TITLE_FONT, t->title, MARGIN, y, wd, PANGO_ALIGN_LEFT)
	           : measure(pg, TITLE_FONT, t->title, wd)) + 3;
	if (t->subtitle)
		y += (draw ? text_at(pg, SUB_FONT, t->subtitle, MARGIN, y, wd, PANGO_ALIGN_LEFT)
		           : measure(pg, SUB_FONT, t->subtitle, wd)) + 6;
	return y;
}

/* Where the body must end: above the stamp boxes and the footer. */
static double body_bottom(const struct page *pg)
{
	return pg->h - MARGIN - FOOT - STAMP - STAMP_LABEL - 8;
}

/* The stamp boxes (押印欄), page n of m and the footer. */
static void foot(struct page *pg, const struct spif_table *t, int n, int m)
{
	static const char *const who[] = {"実施者", "確認者", "管理者"};
	double top = pg->h - MARGIN - FOOT - STAMP - STAMP_LABEL - 2;
	double x0 = pg->w - MARGIN - 3 * STAMP;
	cairo_set_line_width(pg->cr, 0.6);
	text_at(pg, SUB_FONT, "押印欄 / Seals", x0 - 70, top + 2, 66, PANGO_ALIGN_RIGHT);
	for (int i = 0; i < 3; i++) {
		double x = x0 + i * STAMP;
		cairo_rectangle(pg->cr, x, top, STAMP, STAMP_LABEL);
		cairo_rectangle(pg->cr, x, top + STAMP_LABEL, STAMP, STAMP);
		cairo_stroke(pg->cr);
		text_at(pg, SUB_FONT, who[i], x, top + 1.5, STAMP, PANGO_ALIGN_CENTER);
	}
	char pn[64];
	snprintf(pn, sizeof pn, "%d / %d ページ (page %d of %d)", n, m, n, m);
	double fy = pg->h - MARGIN - FOOT + 3;
	text_at(pg, FOOT_FONT, t->footer ? t->footer : "", MARGIN, fy, pg->w - 2 * MARGIN - 120, PANGO_ALIGN_LEFT);
	text_at(pg, FOOT_FONT, pn, pg->w - MARGIN - 108, fy, 108, PANGO_ALIGN_RIGHT);
}

/* ---- a table ---------------------------------------------------------- */

static void col_x(const struct spif_table *t, double width, double *x)
{
	double sum = 0;
	for (size_t i = 0; i < t->ncols; i++)
		sum += t->widths[i];
	x[0] = MARGIN;
	for (size_t i = 0; i < t->ncols; i++)
		x[i + 1] = x[i] + width * t->widths[i] / sum;
}

static double row_height(struct page *pg, const struct spif_table *t, char *const *cells, const double *x,
                         const char *font)
{
	double h = 0;
	for (size_t i = 0; i < t->ncols; i++) {
		double k = measure(pg, font, cells[i], x[i + 1] - x[i] - 2 * PAD);
		h = k > h ? k : h;
	}
	return h + 2 * PAD;
}

static void draw_row(struct page *pg, const struct spif_table *t, char *const *cells, const double *x, double y,
                     double h, const char *font, int shade)
{
	if (shade) {
		cairo_set_source_rgb(pg->cr, 0.9, 0.9, 0.9);
		cairo_rectangle(pg->cr, x[0], y, x[t->ncols] - x[0], h);
		cairo_fill(pg->cr);
		cairo_set_source_rgb(pg->cr, 0, 0, 0);
	}
	cairo_set_line_width(pg->cr, 0.4);
	for (size_t i = 0; i < t->ncols; i++) {
		cairo_rectangle(pg->cr, x[i], y, x[i + 1] - x[i], h);
		text_at(pg, font, cells[i], x[i] + PAD, y + PAD, x[i + 1] - x[i] - 2 * PAD, PANGO_ALIGN_LEFT);
	}
	cairo_stroke(pg->cr);
}

/* Lay the table out: with draw 0 only count the pages (into *pages); with
 * draw 1 draw them, page n of m. */
static void table_pages(struct page *pg, const struct spif_table *t, int draw, int *pages)
{
	double x[64];
	col_x(t, pg->w - 2 * MARGIN, x);
	double top = header(pg, t, 0), bottom = body_bottom(pg);
	double hh = row_height(pg, t, t->heads, x, HEAD_FONT);
	int n = 1;
	double y = top + hh;
	if (draw) {
		header(pg, t, 1);
		draw_row(pg, t, t->heads, x, top, hh, HEAD_FONT, 1);
	}
	for (size_t r = 0; r < t->nrows; r++) {
		char *const *cells = t->cells + r * t->ncols;
		double h = row_height(pg, t, cells, x, TABLE_FONT);
		if (y + h > bottom && y > top + hh) { /* a row taller than a page gets one of its own and runs over its foot: never a loop of empty pages */
			if (draw) {
				foot(pg, t, n, *pages);
				cairo_show_page(pg->cr);
				header(pg, t, 1);
				draw_row(pg, t, t->heads, x, top, hh, HEAD_FONT, 1);
			}
			n++;
			y = top + hh;
		}
		if (draw)
			draw_row(pg, t, cells, x, y, h, TABLE_FONT, 0);
		y += h;
	}
	if (t->nrows == 0 && draw)
		text_at(pg, SUB_FONT, "記載なし / No entries in this period.", MARGIN, y + 6, pg->w - 2 * MARGIN,
		        PANGO_ALIGN_LEFT);
	if (draw) {
		foot(pg, t, n, *pages);
		cairo_show_page(pg->cr);
	}
	*pages = n;
}

/* ---- preformatted lines (a certificate) -------------------------------- */

static void body_pages(struct page *pg, const struct spif_table *t, int draw, int *pages)
{
	double top = header(pg, t, 0), bottom = body_bottom(pg), y = top, wd = pg->w - 2 * MARGIN;
	int n = 1;
	if (draw)
		header(pg, t, 1);
	const char *p = t->body;
	char line[8192];
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
		p += len + (nl ? 1 : 0);
		double h = measure(pg, BODY_FONT, *line ? line : " ", wd);
		if (y + h > bottom && y > top) {
			if (draw) {
				foot(pg, t, n, *pages);
				cairo_show_page(pg->cr);
				header(pg, t, 1);
			}
			n++;
			y = top;
		}
		if (draw && *line)
			text_at(pg, BODY_FONT, line, MARGIN, y, wd, PANGO_ALIGN_LEFT);
		y += h;
	}
	if (draw) {
		foot(pg, t, n, *pages);
		cairo_show_page(pg->cr);
	}
	*pages = n;
}

int spif_table_pdf(const struct spif_table *t, int fd, struct spif_err *err)
{
	if (t->ncols > 62)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "a table of %zu columns", t->ncols);
	struct out o = {.fd = fd};
	struct page pg = {.w = t->landscape ? A4_LONG : A4_SHORT, .h = t->landscape ? A4_SHORT : A4_LONG};
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(put, &o, pg.w, pg.h);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, t->title);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "spif");
	pg.cr = cairo_create(s);
	pg.lay = pango_cairo_create_layout(pg.cr);
	/* points are the page's units: Pango's default is 96 per inch */
	pango_cairo_context_set_resolution(pango_layout_get_context(pg.lay), 72);
	pango_layout_context_changed(pg.lay);
	int pages = 0;
	if (t->body) {
		body_pages(&pg, t, 0, &pages);
		body_pages(&pg, t, 1, &pages);
	} else {
		table_pages(&pg, t, 0, &pages);
		table_pages(&pg, t, 1, &pages);
	}
	g_object_unref(pg.lay);
	cairo_destroy(pg.cr);
	cairo_surface_finish(s);
	cairo_status_t st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	/* Pango's font map, so that only spif's own leaks remain (what
	 * fontconfig caches stays reachable from its globals) */
	pango_cairo_font_map_set_default(NULL);
	if (o.err)
		return spif_err_set(err, SPIF_EX_IOERR, "write: %s", strerror(o.err));
	if (st != CAIRO_STATUS_SUCCESS)
		return spif_err_set(err, SPIF_EX_SOFTWARE, "PDF: %s", cairo_status_to_string(st));
	return 0;
}
