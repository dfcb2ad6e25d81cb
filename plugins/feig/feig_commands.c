/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The feig plugin's commands, each answered between two inventories:
 *   WRITE_AFI        [0xB0 0x27], verified by reading the system information back
 *   OUTPUT "blocks"  [0xB0 0x24]: text = the data as hex in tag order, value =
 *                    the first block; verified by reading the blocks back
 *                    (the same command the 3m810 plugin offers)
 *   OUTPUT "rf"      [0x6A]: value 0 = RF off at every antenna (inventories
 *                    pause, so no tag is reported gone for it), 1 = on again
 * SET_EAS needs NXP custom commands the plugin does not speak: refused.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "feig-plugin.h"

static void reader_failed(struct feig *f, const struct circd_command *cmd, int r,
			  uint8_t status)
{
	char detail[96];

	if (r == -EIO) {
		snprintf(detail, sizeof(detail), "reader: %s (0x%02x)", feig_status_text(status),
			 status);
		f->host->command_done(f->inst, cmd, -EIO, detail);
	} else {
		f->host->command_done(f->inst, cmd,
				      r == -ECANCELED ? -ECANCELED
				      : r == -ENOTCONN ? -ENOTCONN
						       : -EIO,
				      r == -ENOTCONN ? "reader offline"
						     : "no valid answer from the reader");
	}
}

static void write_afi(struct feig *f, const struct circd_command *cmd)
{
	struct feig_sysinfo info;
	uint8_t status = 0;
	char detail[96];
	int r;

	if (cmd->uid_len != FEIG_UID_LEN || cmd->value < 0 || cmd->value > 255) {
		f->host->command_done(f->inst, cmd, -EINVAL, "need an 8-byte UID and AFI 0..255");
		return;
	}
	r = feig_write_afi(f, cmd->uid, (uint8_t)cmd->value, &status);
	if (r == 0)
		r = feig_sysinfo(f, cmd->uid, &info, &status);
	if (r < 0) {
		reader_failed(f, cmd, r, status);
	} else if (info.afi != (uint8_t)cmd->value) {
		snprintf(detail, sizeof(detail), "read back AFI 0x%02x, wanted 0x%02x", info.afi,
			 (unsigned)cmd->value);
		f->host->command_done(f->inst, cmd, -EIO, detail);
	} else {
		f->host->command_done(f->inst, cmd, 0, NULL);
	}
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* text as hex bytes, 1..size of them */
static int parse_hex(const char *text, uint8_t *out, size_t size, size_t *len)
{
	size_t n = text ? strlen(text) : 0;

	if (!n || n % 2 || n / 2 > size)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

/* OUTPUT "blocks": the tag's block size from its system information, one
 * write of whole blocks, then a read-back compared in tag order (what the
 * reader returns is reversed per block, like what it was sent). */
static void write_blocks(struct feig *f, const struct circd_command *cmd)
{
	uint8_t data[FEIG_WRITE_MAX], status = 0;
	struct feig_sysinfo info;
	size_t n = 0, len = 0, bs = 0;
	char detail[96];
	int r;

	if (cmd->uid_len != FEIG_UID_LEN || parse_hex(cmd->text, data, sizeof(data), &n) < 0 ||
	    cmd->value < 0 || cmd->value > 255) {
		f->host->command_done(f->inst, cmd, -EINVAL,
				      "need an 8-byte UID, text = 1..128 bytes of hex and value = first block 0..255");
		return;
	}
	r = feig_sysinfo(f, cmd->uid, &info, &status);
	if (r < 0) {
		reader_failed(f, cmd, r, status);
		return;
	}
	/* a tag that does not say its size: ISO 15693 library tags (ICODE
	 * SLIX) have 4-byte blocks */
	unsigned block_size = info.block_size ? info.block_size : 4;
	if (n % block_size) {
		snprintf(detail, sizeof(detail), "%zu bytes are not whole %u-byte blocks", n,
			 block_size);
		f->host->command_done(f->inst, cmd, -EINVAL, detail);
		return;
	}
	unsigned first = (unsigned)cmd->value, count = (unsigned)(n / block_size);
	if (info.blocks && first + count > info.blocks) {
		snprintf(detail, sizeof(detail), "blocks %u..%u: the tag has %u", first,
			 first + count - 1, info.blocks);
		f->host->command_done(f->inst, cmd, -EINVAL, detail);
		return;
	}
	r = feig_write_blocks(f, cmd->uid, first, count, block_size, data, &status);
	if (r == 0)
		r = feig_read_blocks(f, cmd->uid, first, count, &len, &bs, &status);
	if (r < 0) {
		reader_failed(f, cmd, r, status);
		return;
	}
	bool same = len == n && bs == block_size;
	for (size_t b = 0; same && b < count; b++)
		for (size_t i = 0; same && i < block_size; i++)
			same = f->mem[b * block_size + i] ==
			       data[b * block_size + block_size - 1 - i];
	if (!same) {
		snprintf(detail, sizeof(detail), "read back other data in blocks %u..%u", first,
			 first + count - 1);
		f->host->command_done(f->inst, cmd, -EIO, detail);
		return;
	}
	f->host->command_done(f->inst, cmd, 0, NULL);
}

/* OUTPUT "rf": 0 = off at every antenna, 1 = on (option rf_output; with
 * option antennas the next inventory switches to its antenna anyway). */
static void rf_switch(struct feig *f, const struct circd_command *cmd)
{
	uint8_t status = 0;

	if (cmd->value != 0 && cmd->value != 1) {
		f->host->command_done(f->inst, cmd, -EINVAL, "value must be 0 (off) or 1 (on)");
		return;
	}
	uint8_t ant_out = cmd->value ? (f->nantennas ? (uint8_t)f->antennas[0] : f->rf_output)
				     : FEIG_ANT_OUT_OFF;
	int r = feig_rf_output(f, ant_out, &status);
	if (r < 0) {
		reader_failed(f, cmd, r, status);
		return;
	}
	f->rf_off = cmd->value == 0;
	f->host->log(f->inst, CIRCD_LOG_INFO, "RF output %s", f->rf_off ? "off" : "on");
	f->host->command_done(f->inst, cmd, 0, NULL);
}

static bool output_named(const struct circd_command *cmd, const char *name)
{
	return cmd->type == CIRCD_CMD_OUTPUT && cmd->name && !strcmp(cmd->name, name);
}

void feig_handle_commands(struct feig *f)
{
	struct circd_command cmd = { .struct_size = sizeof(cmd) };

	while (f->host->take_command(f->inst, &cmd) == 1) {
		bool known = cmd.type == CIRCD_CMD_WRITE_AFI || output_named(&cmd, "blocks") ||
			     output_named(&cmd, "rf");
		if (f->stopping)
			f->host->command_done(f->inst, &cmd, -ECANCELED, "stopping");
		else if (!known)
			f->host->command_done(f->inst, &cmd, -EOPNOTSUPP,
					      cmd.type == CIRCD_CMD_SET_EAS
						      ? "EAS needs NXP custom commands: not implemented"
						      : "not a reader command");
		else if (!feig_port_is_open(f))
			f->host->command_done(f->inst, &cmd, -ENOTCONN, "reader offline");
		else if (cmd.type == CIRCD_CMD_WRITE_AFI)
			write_afi(f, &cmd);
		else if (output_named(&cmd, "blocks"))
			write_blocks(f, &cmd);
		else
			rf_switch(f, &cmd);
	}
}
