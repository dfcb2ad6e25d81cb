# tests/integration: the daemon's stories (python3, real circd binary)
