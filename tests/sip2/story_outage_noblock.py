#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story (b), strict: every return journaled while the ACS was away is sent
with no block = Y once it comes back (DESIGN.md "Forwarding semantics":
"the backlog replays in order with SIP2's no-block flag and the original
dates"), not only the ones that were attempted and failed."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_lib import main  # noqa: E402
from story_outage import hang_on, outage_story  # noqa: E402


def story(h):
    outage_story(h, hang_on, lambda acs: None, "refused, then hang; strict no block",
                 strict_noblock=True)


if __name__ == "__main__":
    main(story, timeout=80)
