/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * modbus_sim — a scriptable Modbus TCP device for tests, on libmodbus's
 * server API.  Written from the protocol, not from plugins/modbus.
 *
 *   modbus_sim [--port N | --rtu] [--log FILE]
 *
 * Listens on 127.0.0.1 (port 0 = any free one) and prints "port N" on
 * stdout once it does.  One client at a time; a new one replaces the old.
 * With --rtu it is an RTU slave (address 1) on the master side of a new
 * pty pair instead, and prints "pty /dev/pts/N": the client opens that.
 * All four tables have 1000 points at addresses 0..999.
 *
 * Control lines on stdin, each answered "ok" or "error: ..." on stdout:
 *   set discrete|coil|input_reg|holding ADDR VALUE
 *   fault timeout on|off         drop requests without an answer
 *   fault exception CODE on|off  answer every request with exception CODE
 *   close                        close the client's connection
 *   quit
 * Every write by the client to a coil or holding register is appended to
 * the log file as "coil ADDR VALUE" / "holding ADDR VALUE" (flushed).
 * EOF on stdin ends the simulator.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <modbus.h>

#define POINTS 1000

struct sim {
	modbus_t *ctx;
	modbus_mapping_t *map;
	int listen_fd, client_fd;
	FILE *log;
	bool fault_timeout;
	int fault_exception; /* 0 = none */
};

static void drop_client(struct sim *s)
{
	if (s->client_fd >= 0)
		close(s->client_fd);
	s->client_fd = -1;
}

static void log_writes(struct sim *s, const uint8_t *req)
{
	int h = modbus_get_header_length(s->ctx);
	int fn = req[h];
	int addr = req[h + 1] << 8 | req[h + 2];
	int count = fn == MODBUS_FC_WRITE_SINGLE_COIL || fn == MODBUS_FC_WRITE_SINGLE_REGISTER
			    ? 1 : req[h + 3] << 8 | req[h + 4];

	if (!s->log)
		return;
	for (int i = 0; i < count && addr + i < POINTS; i++) {
		if (fn == MODBUS_FC_WRITE_SINGLE_COIL || fn == MODBUS_FC_WRITE_MULTIPLE_COILS)
			fprintf(s->log, "coil %d %d\n", addr + i, s->map->tab_bits[addr + i]);
		else if (fn == MODBUS_FC_WRITE_SINGLE_REGISTER ||
			 fn == MODBUS_FC_WRITE_MULTIPLE_REGISTERS)
			fprintf(s->log, "holding %d %d\n", addr + i, s->map->tab_registers[addr + i]);
	}
	fflush(s->log);
}

static void serve_request(struct sim *s)
{
	uint8_t req[MODBUS_MAX_ADU_LENGTH];

	modbus_set_socket(s->ctx, s->client_fd);
	int n = modbus_receive(s->ctx, req);
	if (n < 0) {
		if (s->listen_fd >= 0) /* RTU: a bad frame; the line stays */
			drop_client(s);
		return;
	}
	if (n == 0 || s->fault_timeout)
		return;
	if (s->fault_exception) {
		modbus_reply_exception(s->ctx, req, (unsigned)s->fault_exception);
		return;
	}
	if (modbus_reply(s->ctx, req, n, s->map) < 0) {
		drop_client(s);
		return;
	}
	log_writes(s, req);
}

static const char *control(struct sim *s, char *line)
{
	char a[32] = "", b[32] = "", c[32] = "";
	long addr, value;
	int n = sscanf(line, "%31s %31s %31s %ld", a, b, c, &value);

	if (n >= 1 && strcmp(a, "close") == 0) {
		if (s->listen_fd >= 0) /* a pty stays */
			drop_client(s);
		return "ok";
	}
	if (n >= 1 && strcmp(a, "quit") == 0)
		exit(0);
	if (strcmp(a, "set") == 0 && sscanf(line, "%*s %31s %ld %ld", b, &addr, &value) == 3) {
		if (addr < 0 || addr >= POINTS)
			return "error: address";
		if (strcmp(b, "discrete") == 0)
			s->map->tab_input_bits[addr] = value != 0;
		else if (strcmp(b, "coil") == 0)
			s->map->tab_bits[addr] = value != 0;
		else if (strcmp(b, "input_reg") == 0)
			s->map->tab_input_registers[addr] = (uint16_t)value;
		else if (strcmp(b, "holding") == 0)
			s->map->tab_registers[addr] = (uint16_t)value;
		else
			return "error: table";
		return "ok";
	}
	if (strcmp(a, "fault") == 0 && strcmp(b, "timeout") == 0 && n >= 3) {
		s->fault_timeout = strcmp(c, "on") == 0;
		return "ok";
	}
	if (strcmp(a, "fault") == 0 && strcmp(b, "exception") == 0 &&
	    sscanf(line, "%*s %*s %ld %31s", &value, c) == 2) {
		s->fault_exception = strcmp(c, "on") == 0 ? (int)value : 0;
		return "ok";
	}
	return "error: unknown command";
}

int main(int argc, char **argv)
{
	struct sim s = { .client_fd = -1 };
	int port = 0;
	bool rtu = false;
	char line[256];
	size_t len = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--rtu") == 0)
			rtu = true;
		else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
			s.log = fopen(argv[++i], "a");
			if (!s.log) {
				perror(argv[i]);
				return 1;
			}
		} else {
			fprintf(stderr, "usage: modbus_sim [--port N | --rtu] [--log FILE]\n");
			return 2;
		}
	}
	s.map = modbus_mapping_new(POINTS, POINTS, POINTS, POINTS);
	if (!s.map)
		return 1;
	if (rtu) {
		/* The client opens the slave side; keeping it open here too
		 * means the master never sees a hang-up between clients. */
		struct termios raw;
		char name[128];
		int slave;
		memset(&raw, 0, sizeof(raw));
		cfmakeraw(&raw);
		if (openpty(&s.client_fd, &slave, name, &raw, NULL) < 0) {
			perror("openpty");
			return 1;
		}
		s.ctx = modbus_new_rtu(name, 19200, 'E', 8, 1);
		if (!s.ctx)
			return 1;
		modbus_set_slave(s.ctx, 1);
		s.listen_fd = -1;
		printf("pty %s\n", name);
	} else {
		s.ctx = modbus_new_tcp("127.0.0.1", port);
		if (!s.ctx)
			return 1;
		s.listen_fd = modbus_tcp_listen(s.ctx, 1);
		if (s.listen_fd < 0) {
			fprintf(stderr, "listen: %s\n", modbus_strerror(errno));
			return 1;
		}
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		getsockname(s.listen_fd, (struct sockaddr *)&sa, &sl);
		printf("port %d\n", ntohs(sa.sin_port));
	}
	fflush(stdout);

	for (;;) {
		struct pollfd p[3] = { { 0, POLLIN, 0 }, { s.listen_fd, POLLIN, 0 },
				       { s.client_fd, POLLIN, 0 } };
		if (poll(p, s.client_fd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents) {
			ssize_t n = read(0, line + len, sizeof(line) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			char *nl;
			while ((nl = memchr(line, '\n', len))) {
				*nl = '\0';
				printf("%s\n", control(&s, line));
				fflush(stdout);
				len -= (size_t)(nl + 1 - line);
				memmove(line, nl + 1, len);
			}
			if (len == sizeof(line) - 1)
				len = 0;
		}
		if (s.listen_fd >= 0 && (p[1].revents & POLLIN)) {
			int fd = accept(s.listen_fd, NULL, NULL);
			if (fd >= 0) {
				drop_client(&s);
				s.client_fd = fd;
			}
		}
		if (s.client_fd >= 0 && p[2].fd == s.client_fd && p[2].revents)
			serve_request(&s);
	}
	drop_client(&s);
	if (s.listen_fd >= 0)
		close(s.listen_fd);
	modbus_mapping_free(s.map);
	modbus_free(s.ctx);
	if (s.log)
		fclose(s.log);
	return 0;
}
