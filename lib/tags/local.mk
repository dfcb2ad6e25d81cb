# lib/tags: nothing yet
