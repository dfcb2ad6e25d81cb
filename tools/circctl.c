/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * circctl: the administrator's and staff's view into a running circd.
 *
 *   circctl [-s PATH] [--json] COMMAND [ARGS...]
 *
 * Global options, help texts and dispatch live here; each command builds
 * its request and renders the answer in circctl-<area>.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "tools/circctl.h"
#include "util/util.h"

#define DEFAULT_SOCKET RUNSTATEDIR "/circd/control.sock"

/* `circctl tag ...` is lib/tags' command-line front end (tag decode and
 * encode).  It lands with lib/libcircd-tags.la from a parallel branch;
 * the merge defines HAVE_TAG_CLI and links that library. */
int tag_cli_main(int argc, char **argv, FILE *out, FILE *err);

static const char main_help[] =
	"Usage: circctl [OPTIONS] COMMAND [ARGS...]\n"
	"\n"
	"Query and control a running circd over its control socket.\n"
	"\n"
	"Commands:\n"
	"  status                      site, devices, stations, upstreams, backlog\n"
	"  journal [FILTERS]           recent circulation transactions\n"
	"  export --format csv|jsonl   transactions (or --what events) for\n"
	"                              spreadsheets and scripts\n"
	"  stats [--by hour|day]       counts per period, station, kind; returns per\n"
	"                              bin, alarms, gate passes, shelf, self-check\n"
	"  report --html FILE          the stations' statistics as an HTML page with\n"
	"                              charts, for a browser or the printer\n"
	"  exceptions [list]           transactions that need staff\n"
	"  export --format csv|jsonl   transactions for spreadsheets and scripts\n"
	"  stats [--by hour|day]       transaction counts per period, station, kind\n"
	"  exceptions [list]           transactions and station events that need staff\n"
	"  exceptions retry ID         send an exception upstream again\n"
	"  exceptions dismiss ID|SID --note TEXT\n"
	"                              close an exception, saying why\n"
	"  item BARCODE [--refresh]    what is known about an item; --refresh asks\n"
	"                              the library system again\n"
	"  upstream test NAME [-c CONFIG]\n"
	"                              connect to an upstream (SIP2) as circd would,\n"
	"                              without circd, and show what it says\n"
	"  shelf report [--station NAME]\n"
	"                              what the shelf stations see: contents and\n"
	"                              anomalies per shelf\n"
	"  gate NAME [counts|latency]  a gate's people counts and alarms, or its\n"
	"                              decision latency\n"
	"  station NAME OP [--KEY V]   a station's own operations (bookdrop: status,\n"
	"                              receipt --last | --txn ID)\n"
	"  sim DEVICE LINE...          feed lines to a simulated device\n"
	"  reload                      re-read the configuration (as SIGHUP)\n"
	"  metrics                     Prometheus metrics text\n"
	"  tag ...                     decode and encode RFID tag data\n"
	"  help [COMMAND]              this text, or a command's\n"
	"\n"
	"Options:\n"
	"  -s, --socket PATH   control socket (default: $CIRCD_SOCKET, else\n"
	"                      " DEFAULT_SOCKET ")\n"
	"  -j, --json          print circd's answer as JSON instead of tables\n"
	"  -h, --help          show help (also: circctl COMMAND --help)\n"
	"  -V, --version       show the version\n"
	"\n"
	"Times (--since, --until): 2026-11-28T18:00[:SS][Z], 2026-11-28, now,\n"
	"or relative to now: -45s, -30m, -2h, -7d, -1w.\n"
	"\n"
	"Exit status:\n"
	"  0  success\n"
	"  1  circd answered with an error\n"
	"  2  usage error\n"
	"  3  cannot reach circd (not running, no permission, connection lost)\n"
	"`circctl status` instead exits 0 when healthy, 1 when degraded (a device\n"
	"not ok, an upstream not up, or a reload under way), 2 when down (circd\n"
	"stopping, a device failed, or no device working), 3 when circd cannot be\n"
	"reached or cannot report its status.  `circctl upstream test` exits 0 when\n"
	"the ACS is online, 1 when it answers but reports itself offline, 2 when the\n"
	"test cannot run (usage, config), 3 when the test failed.\n";

struct command {
	const char *name;
	int (*run)(struct circctl *ctx, int argc, char **argv);
	const char *help;
};

static int cmd_tag(struct circctl *ctx, int argc, char **argv);

static const struct command commands[] = {
	{ "status", cmd_status,
	  "Usage: circctl status [--json]\n"
	  "\n"
	  "Show the site, devices, stations, upstreams and the backlog.\n"
	  "Exit status: 0 healthy, 1 degraded (a device not ok, an upstream not up,\n"
	  "or reloading), 2 down (stopping, a device failed, or no device working),\n"
	  "3 circd unreachable or unable to report.\n" },
	{ "journal", cmd_journal,
	  "Usage: circctl journal [OPTIONS]\n"
	  "\n"
	  "List circulation transactions, newest first.\n"
	  "\n"
	  "  -n, --limit N       at most N transactions\n"
	  "      --station NAME  only this station\n"
	  "      --kind KIND     checkin, checkout, renew, alarm, count, location\n"
	  "      --state STATE   pending, inflight, done, rejected or dead\n"
	  "      --item ID       only this item\n"
	  "      --since TIME    from TIME on (e.g. -2h, 2026-11-28T18:00)\n"
	  "      --until TIME    before TIME\n"
	  "  -j, --json          print the answer as JSON\n" },
	{ "export", cmd_export,
	  "Usage: circctl export [--what transactions|events] [--type TYPE[,TYPE...]]\n"
	  "                      [--format csv|jsonl] [--since T] [--until T] [-o FILE]\n"
	  "\n"
	  "Export transactions: CSV (RFC 4180, header row; columns id, time, kind,\n"
	  "station, device, item_id, uid, state) or JSON lines.  Default: csv on\n"
	  "standard output.  FILE is written only when the export succeeded.\n"
	  "\n"
	  "  -w, --what events   export the journal's events instead: the stations'\n"
	  "                      facts (sort, alarm-verdict, gate-pass, shelf,\n"
	  "                      selfcheck-session, station-exception) and the devices'\n"
	  "                      observations; CSV columns id, time, type, device,\n"
	  "                      station, item_id, detail (the JSON detail as text)\n"
	  "  -t, --type TYPES    only these event types (comma-separated)\n" },
	{ "stats", cmd_stats,
	  "Usage: circctl stats [--by hour|day] [--since T] [--until T] [--local] [--json]\n"
	  "\n"
	  "Count transactions per period, station and kind (default: per day), then\n"
	  "what the stations did: returns per period and per bin, gate alarms (true,\n"
	  "false, unknown), gate passes in and out, shelf anomalies by kind, the\n"
	  "self-check success rate and the exceptions.  Periods are UTC; --local\n"
	  "labels the stations' periods in circd's local time.\n" },
	{ "report", cmd_report,
	  "Usage: circctl report --html FILE [--since T] [--until T] [--by hour|day|auto]\n"
	  "                      [--title TEXT] [--utc]\n"
	  "       circctl report --json [--since T] [--until T] [--by ...]\n"
	  "\n"
	  "Write the stations' statistics as one self-contained HTML page (inline\n"
	  "SVG charts, no scripts, nothing loaded from elsewhere): returns per\n"
	  "period and per bin, gate alarms true/false/unknown, gate passes in and\n"
	  "out, shelf anomalies, the self-check success rate and the open exceptions.\n"
	  "FILE - writes to standard output; FILE is replaced only when the report is\n"
	  "complete.\n"
	  "\n"
	  "      --html FILE     where to write the page\n"
	  "      --since TIME    from TIME on (default: 24 hours ago)\n"
	  "      --until TIME    before TIME (default: now)\n"
	  "      --by UNIT       hour, day, or auto (default: hours for up to two days)\n"
	  "      --title TEXT    the report's title (default \"Circulation report\")\n"
	  "      --utc           periods in UTC (default: circd's local time)\n"
	  "  -j, --json          print the numbers (circd's answer) instead\n" },
	{ "exceptions", cmd_exceptions,
	  "Usage: circctl exceptions [list] [--json]\n"
	  "       circctl exceptions retry ID\n"
	  "       circctl exceptions dismiss ID|SID --note TEXT\n"
	  "\n"
	  "Transactions the library system refused or that could not be delivered,\n"
	  "then what the stations raised (items in the exception bin, sorter and\n"
	  "re-secure failures, a full bin ...), newest first, with IDs S<n>.\n"
	  "retry queues a transaction for another attempt; dismiss closes an\n"
	  "exception (ID) or a station exception (S<n>), with a note for the record.\n" },
	{ "station", cmd_station,
	  "Usage: circctl station NAME OP [--KEY VALUE | --FLAG]... [--json]\n"
	  "\n"
	  "Run a station's own operation: the options after OP become the request's\n"
	  "keys (--txn 42, --last).  A bookdrop station has:\n"
	  "  status                 intake open or locked, bin fill levels, counts\n"
	  "  receipt --last         the receipt of the last return (title, time, bin,\n"
	  "                         the library system's print lines)\n"
	  "  receipt --txn ID       the receipt of transaction ID\n" },
	{ "item", cmd_item,
	  "Usage: circctl item BARCODE [--refresh] [--upstream NAME] [--wait SECONDS] [--json]\n"
	  "\n"
	  "Show what circd knows about an item: circulation status, security marker,\n"
	  "title, call number, home location, due date, where and when it was last\n"
	  "seen, and when the record was last updated from the library system.\n"
	  "\n"
	  "  -r, --refresh         ask the library system (SIP2 item information)\n"
	  "                        and wait for the answer\n"
	  "  -u, --upstream NAME   ask this upstream (default: the first configured);\n"
	  "                        implies --refresh\n"
	  "  -w, --wait SECONDS    wait at most this long for the answer (default 10;\n"
	  "                        0: queue the lookup and return); implies --refresh\n"
	  "  -j, --json            print circd's answer as JSON\n"
	  "\n"
	  "Exit status: 0 shown (also when the item is not known here), 1 circd\n"
	  "answered an error, or --refresh got no answer from the library system in\n"
	  "time (what is known locally is still shown), 2 usage, 3 circd unreachable.\n" },
	{ "upstream", cmd_upstream,
	  "Usage: circctl upstream test NAME [-c CONFIG] [--json]\n"
	  "\n"
	  "Test the upstream NAME of circd.conf without circd: connect (TCP or TLS)\n"
	  "with the same options circd uses, log in (93), ask the ACS's status (99)\n"
	  "and show what it says: online, institution, library name, supported\n"
	  "messages, timeout period, retries allowed, offline ok, protocol version and\n"
	  "round-trip time; or which step failed and why (dns, connect, tls,\n"
	  "tls-verify, login-refused, timeout, checksum ...).  Only the sip2 plugin is\n"
	  "known.  The password is read from password_file (so run it as root or as\n"
	  "circd's user) and never printed.\n"
	  "\n"
	  "  -c, --config FILE   circd's configuration (default " SYSCONFDIR "/circd/circd.conf)\n"
	  "  -j, --json          print the result as JSON\n"
	  "\n"
	  "Exit status: 0 online, 1 reachable but the ACS reports itself offline,\n"
	  "2 the test cannot run (usage, unreadable or invalid config, no such\n"
	  "upstream, not sip2, unreadable password file), 3 the test failed.\n" },
	{ "shelf", cmd_shelf,
	  "Usage: circctl shelf report [--station NAME] [--json]\n"
	  "\n"
	  "Show what the shelf stations see now: per shelf the antennas that read it,\n"
	  "what belongs on it, how many tags are on it and how many of them belong,\n"
	  "and the anomalies standing now (misplaced, on-shelf-but-loaned, missing)\n"
	  "with the in-library uses counted since circd started.  The history is in\n"
	  "the journal (events of type \"shelf\").\n"
	  "\n"
	  "      --station NAME  only this station (default: every shelf station)\n"
	  "  -j, --json          print the stations' reports as a JSON array\n" },
	{ "selfcheck", cmd_selfcheck,
	  "Usage: circctl selfcheck NAME begin (--patron ID | --card) [--pin-stdin]\n"
	  "       circctl selfcheck NAME status\n"
	  "       circctl selfcheck NAME checkout ITEM\n"
	  "       circctl selfcheck NAME renew ITEM\n"
	  "       circctl selfcheck NAME end\n"
	  "       circctl selfcheck NAME receipt\n"
	  "\n"
	  "Drive the self-check station NAME as its kiosk does.  begin starts a\n"
	  "session for a patron (a barcode, or --card: the card its reader read last)\n"
	  "and asks the library system about them; items put on the pad are lent one\n"
	  "by one; checkout and renew name an item by its barcode.  The library\n"
	  "system answers later: status shows the session, the patron (items out,\n"
	  "fines, blocks) and each item (pending, ok or failed, with the reason).\n"
	  "end closes the session and prints the receipt; receipt prints it again.\n"
	  "\n"
	  "  -p, --patron ID     the patron's barcode\n"
	  "      --card          the patron of the card read last\n"
	  "      --pin-stdin     read the patron's PIN from standard input (one line)\n"
	  "  -j, --json          print circd's answer as JSON\n" },
	{ "gate", cmd_gate,
	  "Usage: circctl gate NAME [counts] [--json]\n"
	  "       circctl gate NAME latency [--reset] [--json]\n"
	  "\n"
	  "counts (the default): people passing the gate NAME in and out, tag reads,\n"
	  "alarms and their verification (true, false, unknown) since the gate\n"
	  "started.  latency: percentiles (microseconds) of the gate's tag handling\n"
	  "over the last 65,536 reads, from the event's arrival in circd to the gate\n"
	  "seeing it, to the decision, and to the alarm command being sent;\n"
	  "--reset starts the samples afresh.\n" },
	{ "sim", cmd_sim,
	  "Usage: circctl sim DEVICE LINE...\n"
	  "\n"
	  "Send each LINE to the simulated device DEVICE (plugin \"sim\"), e.g.\n"
	  "  circctl sim drop1 'tag uid=e004010012345678 item=39001234'\n" },
	{ "reload", cmd_reload,
	  "Usage: circctl reload\n"
	  "\n"
	  "Re-read the configuration.  A broken new configuration is reported and\n"
	  "the running one stays in place.\n" },
	{ "metrics", cmd_metrics,
	  "Usage: circctl metrics\n"
	  "\n"
	  "Print the metrics in Prometheus text format.\n" },
	{ "tag", cmd_tag,
	  "Usage: circctl tag ...\n"
	  "\n"
	  "Decode and encode RFID tag data (ISO 28560-2/-3, 3M); see\n"
	  "`circctl tag --help`.  Works without circd.\n" },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int circctl_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fputs("circctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (command)
		fprintf(stderr, "\nTry 'circctl %s --help'.\n", command);
	else
		fputs("\nTry 'circctl --help'.\n", stderr);
	return EXIT_USAGE;
}

bool circctl_common_option(struct circctl *ctx, const char *command, int opt, int *exit_code)
{
	switch (opt) {
	case 'h': {
		const struct command *c = command ? find_command(command) : NULL;
		fputs(c ? c->help : main_help, stdout);
		*exit_code = EXIT_OK;
		return true;
	}
	case 'j':
		ctx->json = true;
		return true;
	case 's':
		if (!*optarg) {
			*exit_code = circctl_usage_error(command, "empty --socket path");
			return true;
		}
		ctx->socket_path = optarg;
		return true;
	case '?':
	case ':':
		/* getopt has printed what was wrong. */
		if (command)
			fprintf(stderr, "Try 'circctl %s --help'.\n", command);
		else
			fputs("Try 'circctl --help'.\n", stderr);
		*exit_code = EXIT_USAGE;
		return true;
	default:
		return false;
	}
}

int circctl_add_time(struct json_object *req, const char *command, const char *key,
		     const char *arg)
{
	_cleanup_free_ char *iso = NULL;
	if (time_arg_normalize(arg, now_realtime_usec(), &iso) < 0)
		return circctl_usage_error(command,
					   "invalid time '%s' for --%s (use e.g. 2026-11-28T18:00, "
					   "2026-11-28 or -2h)",
					   arg, key);
	json_object_object_add(req, key, json_object_new_string(iso));
	return EXIT_OK;
}

static int cmd_tag(struct circctl *ctx, int argc, char **argv)
{
#ifdef HAVE_TAG_CLI
	fflush(stdout);
	return tag_cli_main(argc, argv, stdout, stderr);
#else
	/* TODO(merge): define HAVE_TAG_CLI and link lib/libcircd-tags.la. */
	fprintf(stderr, "circctl: this circctl was built without tag support\n");
	return EXIT_USAGE;
#endif
}

static int run_help(int argc, char **argv)
{
	if (argc < 2) {
		fputs(main_help, stdout);
		return EXIT_OK;
	}
	const struct command *c = find_command(argv[1]);
	if (!c)
		return circctl_usage_error(NULL, "unknown command '%s'", argv[1]);
	fputs(c->help, stdout);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		CIRCCTL_COMMON_LONG,
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	struct circctl ctx = { .socket_path = getenv("CIRCD_SOCKET") };
	int opt, r = -1;

	if (!ctx.socket_path || !*ctx.socket_path)
		ctx.socket_path = DEFAULT_SOCKET;

	/* '+': stop at the command; its own options follow it. */
	while ((opt = getopt_long(argc, argv, "+" CIRCCTL_COMMON_SHORT "V", options, NULL)) != -1) {
		if (opt == 'V') {
			printf("circctl (circd) %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		}
		if (!circctl_common_option(&ctx, NULL, opt, &r))
			return circctl_usage_error(NULL, "unexpected option");
		if (r >= 0)
			return r;
	}
	if (optind >= argc)
		return circctl_usage_error(NULL, "no command given");

	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "help") == 0)
		return run_help(argc, argv);

	const struct command *c = find_command(argv[0]);
	if (!c)
		return circctl_usage_error(NULL, "unknown command '%s'", argv[0]);

	optind = 0; /* full re-initialisation of getopt for the command */
	r = c->run(&ctx, argc, argv);
	circctl_disconnect(&ctx);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "circctl: writing output: %s\n", strerror(errno));
		return r == EXIT_OK ? EXIT_DAEMON_ERROR : r;
	}
	return r;
}
