"""The only way to the database: engine and scopes, raw statements, group commit, write lock, WAL
checkpoints, migrations, backup. Imports `core` only."""
