/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HTML page of `circctl report` (circctl-report.c): what the stations
 * did in a period, as one self-contained page a branch manager opens in a
 * browser (or prints).
 *
 * The numbers come from circd's "report-data" command (daemon/ctl_report.c);
 * this file only draws them, and copes with any JSON (tests/fuzz/
 * fuzz_report_html.c): missing or mistyped fields count as zero or empty.  The page needs nothing but itself: inline CSS,
 * inline SVG charts, no script, no external reference of any kind (not even
 * an SVG namespace URL: HTML5 parses inline <svg> without one).  Colours are
 * from colour-blind-safe palettes (Okabe & Ito, Paul Tol), every bar carries
 * its number as text and every chart has a <title> and a data table, so no
 * figure depends on telling colours apart.  Charts are SVG shapes, not CSS
 * backgrounds, so they survive printing.
 *
 * Every string that comes from the journal or the config (site, bins, shelf
 * anomalies, exception reasons, period labels) goes through html_escape().
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/circctl.h"
#include "util/util.h"

/* Chart colours: each series has its own, all at least 3:1 against white. */
#define C_RETURNS "#0072B2"        /* Okabe-Ito blue */
#define C_BINS "#332288"           /* Tol indigo */
#define C_ALARM_TRUE "#D55E00"     /* Okabe-Ito vermillion */
#define C_ALARM_FALSE "#009E73"    /* Okabe-Ito bluish green */
#define C_ALARM_UNKNOWN "#6E6E6E"  /* grey */
#define C_PASS_IN "#AA4499"        /* Tol purple */
#define C_PASS_OUT "#117733"       /* Tol green */
#define C_SHELF "#882255"          /* Tol wine */
#define C_SC_OK "#018571"          /* teal */
#define C_SC_FAILED "#A6611A"      /* brown */
#define C_SC_PENDING "#8C8C8C"     /* light grey */
#define C_EXCEPTIONS "#6A3D9A"     /* violet */

#define CHART_WIDTH 920

/* ---- HTML text ---- */

/* Text and attribute values alike: the five characters HTML gives meaning
 * to become references; control characters (a reader's raw bytes in a
 * reason) become '?'. */
static void html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			fputc((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f ? '?' : (int)c, f);
		}
	}
}

/* At most max_chars characters (UTF-8 aware), "…" when cut. */
static void html_escape_cut(FILE *f, const char *s, size_t max_chars)
{
	size_t chars = 0, i = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80 && chars++ == max_chars)
			break;
	}
	if (!s[i]) {
		html_escape(f, s);
		return;
	}
	_cleanup_free_ char *cut = xasprintf("%.*s", (int)i, s);
	html_escape(f, cut);
	fputs("\u2026", f);
}

/* Counts come from the daemon, but the page must not overflow on any. */
static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

static const char *or_none(const char *s)
{
	return s && *s ? s : "(none)";
}

static struct json_object *obj(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

static int64_t arr_int(struct json_object *a, size_t i)
{
	struct json_object *v = a ? json_object_array_get_idx(a, i) : NULL;
	return v ? json_object_get_int64(v) : 0;
}

static size_t arr_len(struct json_object *a)
{
	return a ? json_object_array_length(a) : 0;
}

/* A period's label; "" for anything that is not a string. */
static const char *period_at(struct json_object *periods, size_t i)
{
	struct json_object *v = periods ? json_object_array_get_idx(periods, i) : NULL;
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static void no_data(FILE *f)
{
	fputs("<p class=\"nodata\">No data in this period.</p>\n", f);
}

static void legend(FILE *f, const char *const (*items)[2], size_t n)
{
	fputs("<ul class=\"legend\">", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "<li><svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" "
			   "height=\"12\" fill=\"%s\"/></svg> %s</li>", items[i][0], items[i][1]);
	fputs("</ul>\n", f);
}

/* ---- charts ---- */

struct column_series {
	const char *name;
	const char *color;
	struct json_object *values; /* aligned with periods */
};

/* "2026-11-28T18:00" -> "18:00" (by hour) or "2026-11-28" -> "11-28". */
static void period_short(const char *label, bool by_hour, char *out, size_t size)
{
	size_t len = strlen(label);
	if (by_hour && len >= 16)
		snprintf(out, size, "%.5s", label + 11);
	else if (!by_hour && len >= 10)
		snprintf(out, size, "%.5s", label + 5);
	else
		snprintf(out, size, "%s", label);
}

/* Vertical bars per period, one bar per series side by side. */
static void columns_chart(FILE *f, const char *id, const char *what, struct json_object *periods,
			  bool by_hour, const struct column_series *s, size_t n_series)
{
	size_t n = arr_len(periods);
	int64_t max = 0;
	for (size_t k = 0; k < n_series; k++)
		for (size_t i = 0; i < n; i++)
			if (arr_int(s[k].values, i) > max)
				max = arr_int(s[k].values, i);
	if (max <= 0) {
		no_data(f);
		return;
	}
	const int left = 52, right = 8, top = 22, plot_h = 200, bottom = 44;
	const int width = CHART_WIDTH, height = top + plot_h + bottom, base = top + plot_h;
	double group_w = (double)(width - left - right) / (double)n;
	int bar_w = (int)(group_w * 0.8 / (double)n_series);
	if (bar_w > 56)
		bar_w = 56; /* a few periods: bars, not walls */
	if (bar_w < 1)
		bar_w = 1;
	int pad = (int)((group_w - bar_w * (int)n_series) / 2);

	fprintf(f, "<svg class=\"chart\" role=\"img\" aria-labelledby=\"%s-t\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\"><title id=\"%s-t\">%s</title>\n",
		id, width, height, width, height, id, what);
	/* Grid: zero, half, the maximum. */
	for (int g = 0; g <= 2; g++) {
		int64_t v = g == 0 ? 0 : g == 1 ? max / 2 : max;
		if (g == 1 && max < 2)
			continue;
		int y = base - (int)llround((double)v * plot_h / (double)max);
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"grid\"/>"
			   "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"end\">%" PRId64 "</text>\n",
			left, y, width - right, y, left - 6, y + 4, v);
	}
	for (size_t i = 0; i < n; i++) {
		const char *label = period_at(periods, i);
		int gx = left + (int)((double)i * group_w);
		for (size_t k = 0; k < n_series; k++) {
			int64_t v = arr_int(s[k].values, i);
			if (v <= 0)
				continue;
			int h = (int)llround((double)v * plot_h / (double)max);
			if (h < 1)
				h = 1;
			int x = gx + pad + (int)k * bar_w;
			fprintf(f, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
				   "<title>", x, base - h, bar_w, h, s[k].color);
			html_escape(f, label);
			fprintf(f, " %s: %" PRId64 "</title></rect>", s[k].name, v);
			if (bar_w >= 7)
				fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"value\" text-anchor=\"middle\">%" PRId64
					   "</text>", x + bar_w / 2, base - h - 4, v);
			fputc('\n', f);
		}
	}
	/* Period labels, thinned to one every ~56 px; the date under the hour
	 * where the day changes. */
	size_t every = (size_t)ceil(56.0 / group_w);
	if (every < 1)
		every = 1;
	char prev_day[16] = "";
	for (size_t i = 0; i < n; i += every) {
		const char *label = period_at(periods, i);
		char text[40];
		period_short(label, by_hour, text, sizeof(text));
		int x = left + (int)((double)i * group_w + group_w / 2);
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">", x, base + 16);
		html_escape(f, text);
		fputs("</text>", f);
		if (by_hour && strlen(label) >= 10 && strncmp(prev_day, label, 10) != 0) {
			snprintf(prev_day, sizeof(prev_day), "%.10s", label);
			fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">", x, base + 32);
			html_escape(f, prev_day);
			fputs("</text>", f);
		}
		fputc('\n', f);
	}
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"baseline\"/>\n</svg>\n",
		left, base, width - right, base);

	/* The same numbers as a table, for screen readers and for copying. */
	fputs("<details><summary>Table</summary><table><thead><tr><th>Period</th>", f);
	for (size_t k = 0; k < n_series; k++)
		fprintf(f, "<th>%s</th>", s[k].name);
	fputs("</tr></thead><tbody>\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", f);
		html_escape(f, period_at(periods, i));
		fputs("</td>", f);
		for (size_t k = 0; k < n_series; k++)
			fprintf(f, "<td>%" PRId64 "</td>", arr_int(s[k].values, i));
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></details>\n", f);
}

/* Horizontal bars, one per row of [{key: name, "count": n}]. */
static void rows_chart(FILE *f, const char *id, const char *what, struct json_object *rows,
		       const char *key, const char *color)
{
	size_t n = arr_len(rows);
	int64_t max = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t v = json_int(json_object_array_get_idx(rows, i), "count");
		if (v > max)
			max = v;
	}
	if (max <= 0) {
		no_data(f);
		return;
	}
	const int label_w = 230, row_h = 26, bar_h = 18, bar_max = CHART_WIDTH - label_w - 70;
	int height = (int)n * row_h + 8;
	fprintf(f, "<svg class=\"chart\" role=\"img\" aria-labelledby=\"%s-t\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\"><title id=\"%s-t\">%s</title>\n",
		id, CHART_WIDTH, height, CHART_WIDTH, height, id, what);
	for (size_t i = 0; i < n; i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		const char *name = or_none(json_str(row, key));
		int64_t v = json_int(row, "count");
		int y = 4 + (int)i * row_h;
		int w = v > 0 ? (int)llround((double)v * bar_max / (double)max) : 0;
		if (v > 0 && w < 1)
			w = 1;
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"label\" text-anchor=\"end\">", label_w - 8,
			y + bar_h - 4);
		html_escape_cut(f, name, 32);
		fputs("</text>", f);
		if (w > 0) {
			fprintf(f, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
				   "<title>", label_w, y, w, bar_h, color);
			html_escape(f, name);
			fprintf(f, ": %" PRId64 "</title></rect>", v);
		}
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"value\">%" PRId64 "</text>\n", label_w + w + 6,
			y + bar_h - 4, v);
	}
	fputs("</svg>\n", f);
}

struct segment {
	const char *name;
	const char *color;
	int64_t value;
};

/* One bar split into its parts (self-check: succeeded, failed, pending). */
static void stacked_bar(FILE *f, const char *id, const char *what, const struct segment *seg,
			size_t n)
{
	int64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total = add_sat(total, seg[i].value > 0 ? seg[i].value : 0);
	if (total <= 0) {
		no_data(f);
		return;
	}
	const int bar_w = CHART_WIDTH - 20, bar_h = 34, height = bar_h + 8;
	fprintf(f, "<svg class=\"chart\" role=\"img\" aria-labelledby=\"%s-t\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\"><title id=\"%s-t\">%s</title>\n",
		id, CHART_WIDTH, height, CHART_WIDTH, height, id, what);
	int x = 0;
	int64_t before = 0;
	for (size_t i = 0; i < n; i++) {
		if (seg[i].value <= 0)
			continue;
		before = add_sat(before, seg[i].value);
		int end = (int)llround((double)before * bar_w / (double)total);
		int w = end - x;
		if (w < 1)
			w = 1;
		fprintf(f, "<rect class=\"bar\" x=\"%d\" y=\"4\" width=\"%d\" height=\"%d\" fill=\"%s\">"
			   "<title>%s: %" PRId64 "</title></rect>", x, w, bar_h, seg[i].color, seg[i].name,
			seg[i].value);
		if (w >= 40)
			fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"inbar\" text-anchor=\"middle\">%" PRId64
				   "</text>", x + w / 2, 4 + bar_h / 2 + 5, seg[i].value);
		fputc('\n', f);
		x += w;
	}
	fputs("</svg>\n", f);
}

/* ---- the page ---- */

static const char css[] =
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact;box-sizing:border-box}"
	"body{margin:0;background:#fff;color:#1a1a1a;font:15px/1.4 system-ui,sans-serif}"
	"main{width:960px;margin:0 auto;padding:16px 20px}"
	"h1{font-size:26px;margin:0 0 2px}h2{font-size:18px;margin:0 0 6px}"
	".sub{color:#444;margin:0 0 12px}"
	".tiles{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0 8px}"
	".tile{flex:1 1 140px;border:1px solid #999;border-radius:6px;padding:8px 10px}"
	".tile .n{font-size:28px;font-weight:700}.tile .l{font-weight:600}"
	".tile .d{font-size:13px;color:#444}"
	"section{margin:18px 0;break-inside:avoid;page-break-inside:avoid}"
	".nodata{border:1px dashed #999;padding:14px;color:#444;font-style:italic}"
	".legend{list-style:none;padding:0;margin:0 0 4px;display:flex;gap:18px;font-size:14px}"
	"svg.chart{display:block;font-family:system-ui,sans-serif}"
	"svg .grid{stroke:#d0d0d0;stroke-width:1}svg .baseline{stroke:#333;stroke-width:1}"
	"svg .axis{font-size:11px;fill:#333}svg .value{font-size:11px;fill:#1a1a1a}"
	"svg .label{font-size:13px;fill:#1a1a1a}svg .inbar{font-size:13px;font-weight:700;fill:#fff}"
	"svg rect.bar{shape-rendering:crispEdges}"
	"details{font-size:13px;margin-top:4px}table{border-collapse:collapse}"
	"td,th{border:1px solid #bbb;padding:1px 8px;text-align:right}"
	"td:first-child,th:first-child{text-align:left}"
	"footer{color:#555;font-size:12px;margin-top:24px}"
	"@media print{main{width:auto;padding:0}details{display:none}}";

static void tile(FILE *f, const char *value, const char *label, const char *detail)
{
	fputs("<div class=\"tile\"><div class=\"n\">", f);
	html_escape(f, value);
	fputs("</div><div class=\"l\">", f);
	html_escape(f, label);
	fputs("</div><div class=\"d\">", f);
	html_escape(f, detail);
	fputs("</div></div>\n", f);
}

static void tiles(FILE *f, struct json_object *d)
{
	struct json_object *ret = obj(d, "returns"), *al = obj(d, "alarms"), *gp = obj(d, "gate_passes"),
			   *sh = obj(d, "shelf"), *sc = obj(d, "selfcheck"), *ex = obj(d, "exceptions");
	char v[64], detail[160];

	fputs("<section class=\"tiles\" aria-label=\"Summary\">\n", f);
	snprintf(v, sizeof(v), "%" PRId64, json_int(ret, "total"));
	snprintf(detail, sizeof(detail), "%" PRId64 " sorted to bins", json_int(ret, "sorted"));
	tile(f, v, "Returns", detail);
	snprintf(v, sizeof(v), "%" PRId64, json_int(al, "total"));
	snprintf(detail, sizeof(detail), "%" PRId64 " true, %" PRId64 " false, %" PRId64 " unknown",
		 json_int(al, "true"), json_int(al, "false"), json_int(al, "unknown"));
	tile(f, v, "Gate alarms", detail);
	snprintf(v, sizeof(v), "%" PRId64, json_int(gp, "total"));
	snprintf(detail, sizeof(detail), "%" PRId64 " in, %" PRId64 " out", json_int(gp, "in"),
		 json_int(gp, "out"));
	tile(f, v, "Gate passes", detail);
	snprintf(v, sizeof(v), "%" PRId64, json_int(sh, "total"));
	tile(f, v, "Shelf anomalies", "misplaced, missing, in-library use, loaned");
	struct json_object *rate = NULL;
	if (sc && json_object_object_get_ex(sc, "success_rate", &rate) && rate)
		snprintf(v, sizeof(v), "%.0f%%", json_object_get_double(rate) * 100.0);
	else
		snprintf(v, sizeof(v), "\u2013");
	snprintf(detail, sizeof(detail), "%" PRId64 " of %" PRId64 " answered checkouts and renewals",
		 json_int(sc, "succeeded"), add_sat(json_int(sc, "succeeded"), json_int(sc, "failed")));
	tile(f, v, "Self-check success", detail);
	snprintf(v, sizeof(v), "%" PRId64, json_int(ex, "open"));
	snprintf(detail, sizeof(detail), "refused by the library system; %" PRId64
		 " station exceptions in the period", json_int(ex, "station"));
	tile(f, v, "Open exceptions", detail);
	fputs("</section>\n", f);
}

static void section_start(FILE *f, const char *id, const char *heading, const char *note)
{
	fprintf(f, "<section id=\"%s\"><h2>%s</h2>\n", id, heading);
	if (note)
		fprintf(f, "<p class=\"sub\">%s</p>\n", note);
}

void report_html_write(FILE *f, struct json_object *d, const char *title)
{
	const char *site = json_str(d, "site");
	const char *since = json_str(d, "since_label"), *until = json_str(d, "until_label");
	bool by_hour = strcmp(json_str(d, "by"), "hour") == 0;
	const char *per = by_hour ? "hour" : "day";
	struct json_object *periods = json_array(d, "periods");
	char heading[96];

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
	html_escape(f, title);
	fputs(" \u2014 ", f);
	html_escape(f, site);
	fputs("</title>\n<style>", f);
	fputs(css, f);
	fputs("</style>\n</head>\n<body>\n<main>\n<header>\n<h1>", f);
	html_escape(f, site);
	fputs("</h1>\n<p class=\"sub\"><strong>", f);
	html_escape(f, title);
	fputs("</strong>: ", f);
	html_escape(f, *since ? since : "the beginning of the journal");
	fputs(" to ", f);
	html_escape(f, *until ? until : "now");
	fputs(" (", f);
	html_escape(f, json_str(d, "timezone"));
	fprintf(f, "), per %s.</p>\n</header>\n", per);

	tiles(f, d);

	struct json_object *ret = obj(d, "returns");
	snprintf(heading, sizeof(heading), "Returns per %s", per);
	section_start(f, "returns-per-period", heading, NULL);
	const struct column_series rs[] = {
		{ "returns", C_RETURNS, json_array(ret, "per_period") },
	};
	columns_chart(f, "c-returns", "Returns per period", periods, by_hour, rs, 1);
	fputs("</section>\n", f);

	section_start(f, "returns-per-bin", "Returns per bin", "Where the sorter put them.");
	rows_chart(f, "c-bins", "Returns per bin", json_array(ret, "by_bin"), "bin", C_BINS);
	fputs("</section>\n", f);

	struct json_object *al = obj(d, "alarms"), *alp = obj(al, "per_period");
	snprintf(heading, sizeof(heading), "Gate alarms per %s", per);
	section_start(f, "alarms", heading,
		      "True: the library system says the item was not on loan; false: it was; "
		      "unknown: no answer.");
	static const char *const al_legend[][2] = {
		{ C_ALARM_TRUE, "true" }, { C_ALARM_FALSE, "false" }, { C_ALARM_UNKNOWN, "unknown" },
	};
	const struct column_series as[] = {
		{ "true", C_ALARM_TRUE, json_array(alp, "true") },
		{ "false", C_ALARM_FALSE, json_array(alp, "false") },
		{ "unknown", C_ALARM_UNKNOWN, json_array(alp, "unknown") },
	};
	if (json_int(al, "total") > 0)
		legend(f, al_legend, ARRAY_SIZE(al_legend));
	columns_chart(f, "c-alarms", "Gate alarms per period: true, false, unknown", periods, by_hour,
		      as, ARRAY_SIZE(as));
	fputs("</section>\n", f);

	struct json_object *gp = obj(d, "gate_passes"), *gpp = obj(gp, "per_period");
	snprintf(heading, sizeof(heading), "Gate passes per %s", per);
	section_start(f, "gate-passes", heading, NULL);
	static const char *const gp_legend[][2] = { { C_PASS_IN, "in" }, { C_PASS_OUT, "out" } };
	const struct column_series gs[] = {
		{ "in", C_PASS_IN, json_array(gpp, "in") },
		{ "out", C_PASS_OUT, json_array(gpp, "out") },
	};
	if (json_int(gp, "in") > 0 || json_int(gp, "out") > 0)
		legend(f, gp_legend, ARRAY_SIZE(gp_legend));
	columns_chart(f, "c-passes", "Gate passes per period: in, out", periods, by_hour, gs,
		      ARRAY_SIZE(gs));
	fputs("</section>\n", f);

	section_start(f, "shelf", "Shelf anomalies", NULL);
	rows_chart(f, "c-shelf", "Shelf anomalies by kind", json_array(obj(d, "shelf"), "by_anomaly"),
		   "anomaly", C_SHELF);
	fputs("</section>\n", f);

	struct json_object *sc = obj(d, "selfcheck");
	section_start(f, "selfcheck", "Self-check", NULL);
	char line[200];
	snprintf(line, sizeof(line),
		 "%" PRId64 " sessions; %" PRId64 " items checked out or renewed, %" PRId64 " refused; "
		 "%" PRId64 " checkouts and %" PRId64 " renewals journaled.",
		 json_int(sc, "sessions"), json_int(sc, "items_ok"), json_int(sc, "items_failed"),
		 json_int(sc, "checkouts"), json_int(sc, "renewals"));
	fputs("<p class=\"sub\">", f);
	html_escape(f, line);
	fputs("</p>\n", f);
	static const char *const sc_legend[][2] = {
		{ C_SC_OK, "succeeded" }, { C_SC_FAILED, "refused" }, { C_SC_PENDING, "not answered yet" },
	};
	const struct segment segs[] = {
		{ "succeeded", C_SC_OK, json_int(sc, "succeeded") },
		{ "refused", C_SC_FAILED, json_int(sc, "failed") },
		{ "not answered yet", C_SC_PENDING, json_int(sc, "pending") },
	};
	if (json_int(sc, "transactions") > 0)
		legend(f, sc_legend, ARRAY_SIZE(sc_legend));
	stacked_bar(f, "c-selfcheck", "Self-check checkouts and renewals", segs, ARRAY_SIZE(segs));
	fputs("</section>\n", f);

	struct json_object *ex = obj(d, "exceptions");
	section_start(f, "exceptions", "Exceptions", NULL);
	snprintf(line, sizeof(line), "%" PRId64 " open now (see circctl exceptions); station exceptions "
		 "in the period by reason:", json_int(ex, "open"));
	fputs("<p class=\"sub\">", f);
	html_escape(f, line);
	fputs("</p>\n", f);
	rows_chart(f, "c-exceptions", "Station exceptions by reason", json_array(ex, "station_by_reason"),
		   "reason", C_EXCEPTIONS);
	fputs("</section>\n", f);

	fputs("<footer>", f);
	if (json_int(d, "malformed_events") > 0)
		fprintf(f, "%" PRId64 " journal events could not be read and are left out. ",
			json_int(d, "malformed_events"));
	fputs("Generated by circd ", f);
	html_escape(f, PACKAGE_VERSION);
	fputs(" at ", f);
	html_escape(f, json_str(d, "generated"));
	fputs(".</footer>\n</main>\n</body>\n</html>\n", f);
}

