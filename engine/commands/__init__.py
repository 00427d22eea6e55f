"""The engine's commands, one module per family; each runs through the `CommandExecutor`."""
