#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Story (e), strict: as story_tls.py, and {"cmd":"status"} itself tells
staff why a TLS upstream is OFFLINE (the certificate verification failure),
not only the log."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_lib import main  # noqa: E402
from story_tls import tls_story  # noqa: E402


def story(h):
    tls_story(h, strict_status=True)


if __name__ == "__main__":
    main(story, timeout=60)
