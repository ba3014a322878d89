"""Reading what users write and record: suites, inventories, traces, safe YAML."""
