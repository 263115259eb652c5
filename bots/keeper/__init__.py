"""The keeper library: pure decision logic (strategy, risk) and, around it, the I/O that feeds
and executes it. Both ways of running the keeper (the CLI and the Silverback bot) share it."""
