"""The CAP message as plain data, shared below intake, geography and rendering: no rules, no I/O."""
