#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story: returns whose item id comes from the tag's memory.

A 2-disc audiobook (ISO 28560-3, item 30012345, parts 1/2 and 2/2, from
etc/scenarios/set-2part.scn) is returned complete; later disc 1 comes back
alone.  A tag whose memory was read with each 4-byte block reversed (as FEIG
readers return it), a damaged tag (CRC wrong) and a blank tag are returned
too.  The station decodes every tag: the item ids come from memory, the
set's state is journaled with each part ("incomplete", then "complete"; the
lone disc again "incomplete"), and the unreadable ones are still journaled
with their UID and the decoder's reason, never dropped."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from circdtest import check, main, wait_for  # noqa: E402

top = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), "..", ".."))

# "foobar"-style images made with `circctl tag encode --model 28560-3`.
GOOD = "1101013330303534333231000000000000000072AB444535323600000000000000000000"


def reversed_blocks(hexmem):
    b = bytes.fromhex(hexmem)
    b = b + bytes((-len(b)) % 4)
    return b"".join(b[i:i + 4][::-1] for i in range(0, len(b), 4)).hex()


def damaged(hexmem):
    b = bytearray(bytes.fromhex(hexmem))
    b[5] ^= 0x01  # one bit of the item id: the CRC no longer matches
    return b.hex()


def story(h):
    with open(os.path.join(top, "etc", "scenarios", "set-2part.scn")) as f:
        sets = f.read()
    extra = (
        "+2000 tag uid=E004015000003001 block_size=4 mem=%s dwell=300\n"
        "+1000 tag uid=E004015000003002 block_size=4 mem=%s dwell=300\n"
        "+1000 tag uid=E004015000003003 block_size=4 mem=%s dwell=300\n"
        % (reversed_blocks(GOOD), damaged(GOOD), "00" * 32))
    h.config(devices=[{"name": "drop1", "plugin": "sim", "scenario": h.scenario("t.scn", sets + extra)}],
             stations=[{"name": "returns", "role": "bookdrop", "devices": ["drop1"]}])
    h.start()
    wait_for(lambda: h.jsonl_count() >= 6, 20, "6 returns in jsonl")
    check(h.stop() == 0, "circd exits 0")
    lines = h.jsonl()
    check(len(lines) == 6, "6 returns journaled and forwarded (%d)" % len(lines))
    tags = [x.get("detail", {}).get("tag", {}) for x in lines]
    items = [x["item_id"] for x in lines]
    check(items[:3] == ["30012345"] * 3, "the set's parts decode to item 30012345 (%s)" % items[:3])
    check([t.get("part") for t in tags[:3]] == [1, 2, 1], "parts 1, 2, then 1 again")
    check([t.get("set") for t in tags[:3]] == ["incomplete", "complete", "incomplete"],
          "set state journaled with each part: incomplete, complete, incomplete (%s)"
          % [t.get("set") for t in tags[:3]])
    check(items[3] == "30054321" and tags[3].get("blocks_reversed") is True,
          "a tag read with reversed blocks decodes (%s, %s)" % (items[3], tags[3]))
    check(items[4] == "" and tags[4].get("error") == "crc-mismatch",
          "a damaged tag is journaled without an item id, with the reason (%s)" % tags[4])
    check(items[5] == "" and tags[5].get("model") == "blank",
          "a blank tag is journaled as blank (%s)" % tags[5])
    check(all(x["uid"] for x in lines), "every return keeps its UID")


if __name__ == "__main__":
    main(story, timeout=60)
