/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The physical reference for the journal benchmark: raw SQLite inserts of
 * one ~60-byte row per event into a fresh WAL database with
 * synchronous=FULL, BATCH rows per transaction, prepared statement, no
 * indexes.  This is the floor any durable journal pays; circd's figure is
 * printed as a ratio of it.
 *
 * Usage: sqlite_reference DIR ROWS BATCH   -> prints "rows_per_sec N"
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sqlite3.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s DIR ROWS BATCH\n", argv[0]);
		return 2;
	}
	long rows = atol(argv[2]), batch = atol(argv[3]);
	char path[4096];
	snprintf(path, sizeof(path), "%s/reference.db", argv[1]);
	remove(path);
	sqlite3 *db;
	sqlite3_stmt *ins;
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			     "CREATE TABLE t(id INTEGER PRIMARY KEY, item TEXT, uid TEXT, time INTEGER)",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t(item, uid, time) VALUES (?,?,?)", -1, &ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	double t0 = now();
	char item[32], uid[24];
	for (long i = 0; i < rows;) {
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		for (long k = 0; k < batch && i < rows; k++, i++) {
			snprintf(item, sizeof(item), "SIM%08ld", i);
			snprintf(uid, sizeof(uid), "e0040100%08lx", i);
			sqlite3_bind_text(ins, 1, item, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 2, uid, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 3, (sqlite3_int64)i);
			sqlite3_step(ins);
			sqlite3_reset(ins);
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
			return 1;
		}
	}
	double dt = now() - t0;
	printf("rows_per_sec %.0f\n", (double)rows / dt);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	remove(path);
	return 0;
}
