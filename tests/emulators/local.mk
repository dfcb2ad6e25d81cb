# tests/emulators: nothing yet
