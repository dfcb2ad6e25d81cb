/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Serial ports: raw 8-bit termios at the configured speed and parity, opened
 * exclusively (TIOCEXCL) so that a second daemon or a stray `cat` cannot
 * steal half of a reader's answers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "transport/transport-internal.h"

static int speed_constant(unsigned baud, speed_t *out)
{
	static const struct { unsigned baud; speed_t c; } table[] = {
		{ 1200, B1200 },     { 2400, B2400 },     { 4800, B4800 },
		{ 9600, B9600 },     { 19200, B19200 },   { 38400, B38400 },
		{ 57600, B57600 },   { 115200, B115200 }, { 230400, B230400 },
		{ 460800, B460800 }, { 921600, B921600 },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].baud == baud) {
			*out = table[i].c;
			return 0;
		}
	return -EINVAL;
}

int transport_serial_open(struct transport *t)
{
	const struct transport_spec *s = &t->spec;
	struct termios tio;
	speed_t speed;
	int fd, r;

	if (speed_constant(s->speed, &speed) < 0) {
		snprintf(t->reason, sizeof(t->reason), "%.80s: unsupported speed %u", s->path,
			 s->speed);
		return -EINVAL;
	}
	fd = open(s->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(t->reason, sizeof(t->reason), "%.80s: %s", s->path, strerror(-r));
		return r;
	}
	if (ioctl(fd, TIOCEXCL) < 0 && errno != ENOTTY) {
		r = -errno;
		snprintf(t->reason, sizeof(t->reason), "%.80s: exclusive open: %s", s->path,
			 strerror(-r));
		close(fd);
		return r;
	}
	if (tcgetattr(fd, &tio) < 0) {
		r = -errno;
		snprintf(t->reason, sizeof(t->reason), "%.80s: not a tty: %s", s->path, strerror(-r));
		close(fd);
		return r;
	}
	cfmakeraw(&tio);
	tio.c_cflag &= ~(tcflag_t)(CSIZE | CSTOPB | PARENB | PARODD | CRTSCTS);
	tio.c_cflag |= CS8 | CLOCAL | CREAD;
	if (s->parity == 'E')
		tio.c_cflag |= PARENB;
	else if (s->parity == 'O')
		tio.c_cflag |= PARENB | PARODD;
	/* VMIN 1: with VMIN = VTIME = 0 a tty read returns 0 when empty even
	 * under O_NONBLOCK, which would look like end of file */
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	cfsetispeed(&tio, speed);
	cfsetospeed(&tio, speed);
	if (tcsetattr(fd, TCSANOW, &tio) < 0) {
		r = -errno;
		snprintf(t->reason, sizeof(t->reason), "%.80s: termios: %s", s->path, strerror(-r));
		close(fd);
		return r;
	}
	tcflush(fd, TCIOFLUSH);
	t->fd = fd;
	return 0;
}
