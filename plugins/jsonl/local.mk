# plugins/jsonl: upstream appending transactions to a JSON-lines file
plugins_LTLIBRARIES += plugins/jsonl.la
plugins_jsonl_la_SOURCES = plugins/jsonl/jsonl.c
plugins_jsonl_la_LDFLAGS = $(CIRCD_PLUGIN_LINK)
plugins_jsonl_la_LIBADD = lib/libcircd-util.la
