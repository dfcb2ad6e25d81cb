# tests/plugin-host: a fake host that loads a plugin .so for tests and the conformance kit
