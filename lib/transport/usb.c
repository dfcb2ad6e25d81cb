/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* usb transport: find, open and claim by VID:PID[:serial]; bulk and control
 * transfers with timeouts; hotplug arrival or polling while away. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <libusb.h>

#include "transport/usb.h"

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000
#define STRING_TIMEOUT_MS 500

struct usb_transport {
	struct usb_id id;
	libusb_context *ctx;
	libusb_device_handle *handle;
	int iface;
	uint8_t ep_in, ep_out;
	size_t max_packet_in;

	bool hotplug;
	libusb_hotplug_callback_handle hotplug_handle;
	unsigned arrivals;
	int epoll_fd;

	unsigned retry_ms;
	char describe[96 + USB_SERIAL_MAX];
	char reason[USB_REASON_MAX];
};

int usb_id_parse(const char *text, struct usb_id *id, char *reason, size_t reason_size)
{
	unsigned vid, pid;
	int n = 0;

	memset(id, 0, sizeof(*id));
	if (!text || sscanf(text, "%4x:%4x%n", &vid, &pid, &n) != 2 || n != 9 ||
	    !isxdigit((unsigned char)text[0]) || !isxdigit((unsigned char)text[5])) {
		snprintf(reason, reason_size, "'%s': expected VID:PID[:SERIAL] in hex, e.g. 072F:2200",
			 text ? text : "");
		return -EINVAL;
	}
	if (text[n] == ':') {
		const char *s = text + n + 1;
		if (!*s || strlen(s) >= sizeof(id->serial)) {
			snprintf(reason, reason_size, "'%s': empty or too long serial number", text);
			return -EINVAL;
		}
		snprintf(id->serial, sizeof(id->serial), "%s", s);
	} else if (text[n]) {
		snprintf(reason, reason_size, "'%s': expected VID:PID[:SERIAL] in hex", text);
		return -EINVAL;
	}
	id->vendor_id = (uint16_t)vid;
	id->product_id = (uint16_t)pid;
	return 0;
}

static int hotplug_cb(libusb_context *ctx, libusb_device *dev, libusb_hotplug_event event,
		      void *user)
{
	struct usb_transport *u = user;

	(void)ctx;
	(void)dev;
	if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED)
		u->arrivals++;
	return 0; /* stay registered */
}

static void set_describe_id(struct usb_transport *u)
{
	snprintf(u->describe, sizeof(u->describe), "%04x:%04x%s%s", u->id.vendor_id,
		 u->id.product_id, u->id.serial[0] ? " serial " : "", u->id.serial);
}

int usb_transport_new(const struct usb_id *id, struct usb_transport **out, char *reason,
		      size_t reason_size)
{
	struct usb_transport *u;
	int r;

	*out = NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->id = *id;
	u->epoll_fd = -1;
	u->iface = -1;
	u->retry_ms = RETRY_MIN_MS;
	set_describe_id(u);
	r = libusb_init(&u->ctx);
	if (r < 0) {
		snprintf(reason, reason_size, "libusb: %s", libusb_strerror(r));
		free(u);
		return -EIO;
	}
	if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
		r = libusb_hotplug_register_callback(
			u->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
			0, id->vendor_id, id->product_id, LIBUSB_HOTPLUG_MATCH_ANY, hotplug_cb, u,
			&u->hotplug_handle);
		u->hotplug = r == LIBUSB_SUCCESS; /* else: poll by retrying */
	}
	*out = u;
	return 0;
}

void usb_transport_free(struct usb_transport *u)
{
	if (!u)
		return;
	usb_transport_close(u);
	if (u->hotplug)
		libusb_hotplug_deregister_callback(u->ctx, u->hotplug_handle);
	if (u->epoll_fd >= 0)
		close(u->epoll_fd);
	libusb_exit(u->ctx);
	free(u);
}

/* libusb's error as a negative errno, and in words in u->reason. */
static int usb_error(struct usb_transport *u, const char *what, int lr)
{
	int r;

	switch (lr) {
	case LIBUSB_ERROR_TIMEOUT: r = -ETIMEDOUT; break;
	case LIBUSB_ERROR_NO_DEVICE: r = -ENODEV; break;
	case LIBUSB_ERROR_NOT_FOUND: r = -ENODEV; break;
	case LIBUSB_ERROR_ACCESS: r = -EACCES; break;
	case LIBUSB_ERROR_BUSY: r = -EBUSY; break;
	case LIBUSB_ERROR_PIPE: r = -EPIPE; break;
	case LIBUSB_ERROR_OVERFLOW: r = -EOVERFLOW; break;
	case LIBUSB_ERROR_NO_MEM: r = -ENOMEM; break;
	case LIBUSB_ERROR_INTERRUPTED: r = -EINTR; break;
	default: r = -EIO;
	}
	snprintf(u->reason, sizeof(u->reason), "%s: %s", what, libusb_strerror(lr));
	return r;
}

/* The interface with bulk IN and OUT endpoints (of class `cls` if >= 0). */
static int find_interface(struct usb_transport *u, libusb_device *dev, int cls)
{
	struct libusb_config_descriptor *cfg;
	int r = libusb_get_active_config_descriptor(dev, &cfg);

	if (r < 0)
		return usb_error(u, "configuration descriptor", r);
	r = -ENODEV;
	for (uint8_t i = 0; i < cfg->bNumInterfaces && r < 0; i++) {
		const struct libusb_interface *itf = &cfg->interface[i];
		if (itf->num_altsetting < 1)
			continue;
		const struct libusb_interface_descriptor *alt = &itf->altsetting[0];
		uint8_t in = 0, out = 0;
		size_t max_in = 0;
		if (cls >= 0 && alt->bInterfaceClass != cls)
			continue;
		for (uint8_t e = 0; e < alt->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
			if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK)
				continue;
			if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
				if (!in) {
					in = ep->bEndpointAddress;
					max_in = ep->wMaxPacketSize;
				}
			} else if (!out) {
				out = ep->bEndpointAddress;
			}
		}
		if (in && out) {
			u->iface = alt->bInterfaceNumber;
			u->ep_in = in;
			u->ep_out = out;
			u->max_packet_in = max_in;
			r = 0;
		}
	}
	libusb_free_config_descriptor(cfg);
	if (r < 0)
		snprintf(u->reason, sizeof(u->reason),
			 "%04x:%04x has no interface with bulk IN and OUT endpoints",
			 u->id.vendor_id, u->id.product_id);
	return r;
}

/* Open dev; with a serial number asked for, check it.  0, -ENOENT (another
 * serial number) or a negative errno. */
static int try_device(struct usb_transport *u, libusb_device *dev,
		      const struct libusb_device_descriptor *desc, char *serial,
		      size_t serial_size)
{
	int r = libusb_open(dev, &u->handle);

	serial[0] = '\0';
	if (r < 0) {
		u->handle = NULL;
		return usb_error(u, "open", r);
	}
	if (desc->iSerialNumber) {
		r = libusb_get_string_descriptor_ascii(u->handle, desc->iSerialNumber,
						       (unsigned char *)serial, (int)serial_size);
		if (r < 0)
			serial[0] = '\0';
	}
	if (u->id.serial[0] && strcmp(serial, u->id.serial) != 0) {
		libusb_close(u->handle);
		u->handle = NULL;
		return -ENOENT;
	}
	return 0;
}

int usb_transport_open(struct usb_transport *u, int iface_class)
{
	libusb_device **list = NULL;
	libusb_device *dev = NULL;
	char serial[USB_SERIAL_MAX] = "";
	int r = -ENODEV, found = 0;
	ssize_t n;

	if (u->handle)
		return 0;
	u->reason[0] = '\0';
	n = libusb_get_device_list(u->ctx, &list);
	if (n < 0)
		return usb_error(u, "device list", (int)n);
	for (ssize_t i = 0; i < n && !dev; i++) {
		struct libusb_device_descriptor desc;
		if (libusb_get_device_descriptor(list[i], &desc) < 0 ||
		    desc.idVendor != u->id.vendor_id || desc.idProduct != u->id.product_id)
			continue;
		found++;
		r = try_device(u, list[i], &desc, serial, sizeof(serial));
		if (r == 0)
			dev = list[i];
		else if (r != -ENOENT)
			break; /* the right device, but it cannot be opened */
	}
	if (!dev) {
		libusb_free_device_list(list, 1);
		if (r == -ENODEV || r == -ENOENT) {
			r = -ENODEV;
			snprintf(u->reason, sizeof(u->reason), "%04x:%04x%s%s not plugged in%s",
				 u->id.vendor_id, u->id.product_id,
				 u->id.serial[0] ? " serial " : "", u->id.serial,
				 found ? " (others with this id are)" : "");
		} else if (r == -EACCES) {
			snprintf(u->reason, sizeof(u->reason),
				 "%04x:%04x: permission denied (udev rules: circd --udev-rules)",
				 u->id.vendor_id, u->id.product_id);
		}
		return r;
	}
	r = find_interface(u, dev, iface_class);
	if (r == 0) {
		/* give a kernel driver (pn533_usb for the ACR122U) the
		 * interface back on release; not supported off Linux */
		libusb_set_auto_detach_kernel_driver(u->handle, 1);
		int lr = libusb_claim_interface(u->handle, u->iface);
		if (lr < 0)
			r = lr == LIBUSB_ERROR_BUSY
				    ? (snprintf(u->reason, sizeof(u->reason),
						"interface %d is claimed by another program",
						u->iface), -EBUSY)
				    : usb_error(u, "claim interface", lr);
	}
	if (r < 0) {
		libusb_close(u->handle);
		u->handle = NULL;
		libusb_free_device_list(list, 1);
		return r;
	}
	snprintf(u->describe, sizeof(u->describe), "%04x:%04x bus %u device %u%s%s",
		 u->id.vendor_id, u->id.product_id, libusb_get_bus_number(dev),
		 libusb_get_device_address(dev), serial[0] ? " serial " : "", serial);
	libusb_free_device_list(list, 1);
	u->retry_ms = RETRY_MIN_MS;
	return 0;
}

void usb_transport_close(struct usb_transport *u)
{
	if (!u->handle)
		return;
	libusb_release_interface(u->handle, u->iface); /* fails when gone: fine */
	libusb_close(u->handle);
	u->handle = NULL;
	u->iface = -1;
	set_describe_id(u);
}

bool usb_transport_is_open(const struct usb_transport *u)
{
	return u->handle != NULL;
}

/* After a transfer error: a device that is gone is closed here. */
static int transfer_error(struct usb_transport *u, const char *what, int lr)
{
	int r = usb_error(u, what, lr);

	if (r == -ENODEV)
		usb_transport_close(u);
	else if (r == -EPIPE && u->handle)
		libusb_clear_halt(u->handle, strcmp(what, "bulk read") ? u->ep_out : u->ep_in);
	return r;
}

int usb_transport_bulk_write(struct usb_transport *u, const void *buf, size_t len,
			     int timeout_ms)
{
	int done = 0, lr;

	if (!u->handle)
		return -ENODEV;
	if (len > INT32_MAX)
		return -EMSGSIZE;
	lr = libusb_bulk_transfer(u->handle, u->ep_out, (unsigned char *)buf, (int)len, &done,
				  (unsigned)(timeout_ms < 0 ? 0 : timeout_ms));
	if (lr < 0)
		return transfer_error(u, "bulk write", lr);
	if ((size_t)done != len) {
		snprintf(u->reason, sizeof(u->reason), "bulk write: %d of %zu bytes taken", done,
			 len);
		return -EIO;
	}
	return 0;
}

ssize_t usb_transport_bulk_read(struct usb_transport *u, void *buf, size_t len, int timeout_ms)
{
	int done = 0, lr;

	if (!u->handle)
		return -ENODEV;
	if (len > INT32_MAX)
		return -EMSGSIZE;
	lr = libusb_bulk_transfer(u->handle, u->ep_in, buf, (int)len, &done,
				  (unsigned)(timeout_ms < 0 ? 0 : timeout_ms));
	if (lr == LIBUSB_ERROR_TIMEOUT && done > 0)
		return done; /* part came before the timeout */
	if (lr < 0)
		return transfer_error(u, "bulk read", lr);
	return done;
}

int usb_transport_control(struct usb_transport *u, uint8_t request_type, uint8_t request,
			  uint16_t value, uint16_t index, void *data, uint16_t len,
			  int timeout_ms)
{
	int lr;

	if (!u->handle)
		return -ENODEV;
	lr = libusb_control_transfer(u->handle, request_type, request, value, index, data, len,
				     (unsigned)(timeout_ms < 0 ? 0 : timeout_ms));
	if (lr < 0)
		return transfer_error(u, "control transfer", lr);
	return lr;
}

unsigned usb_transport_next_retry_ms(struct usb_transport *u)
{
	unsigned ms = u->retry_ms;

	u->retry_ms = u->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : u->retry_ms * 2;
	return ms;
}

int usb_transport_event_fd(struct usb_transport *u)
{
	const struct libusb_pollfd **fds;

	if (!u->hotplug)
		return -1;
	/* libusb's fds change as devices open and close: one fresh epoll set
	 * of them per wait (cheap, and only done while waiting anyway) */
	if (u->epoll_fd >= 0)
		close(u->epoll_fd);
	u->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (u->epoll_fd < 0)
		return -1;
	fds = libusb_get_pollfds(u->ctx);
	for (size_t i = 0; fds && fds[i]; i++) {
		struct epoll_event ev = { .events = 0, .data.fd = fds[i]->fd };
		if (fds[i]->events & POLLIN)
			ev.events |= EPOLLIN;
		if (fds[i]->events & POLLOUT)
			ev.events |= EPOLLOUT;
		epoll_ctl(u->epoll_fd, EPOLL_CTL_ADD, fds[i]->fd, &ev);
	}
	libusb_free_pollfds(fds);
	return u->epoll_fd;
}

bool usb_transport_has_hotplug(const struct usb_transport *u)
{
	return u->hotplug;
}

unsigned usb_transport_handle_events(struct usb_transport *u)
{
	struct timeval zero = { 0, 0 };
	unsigned n;

	libusb_handle_events_timeout_completed(u->ctx, &zero, NULL);
	n = u->arrivals;
	u->arrivals = 0;
	return n;
}

const char *usb_transport_describe(const struct usb_transport *u)
{
	return u->describe;
}

const char *usb_transport_reason(const struct usb_transport *u)
{
	return u->reason;
}
