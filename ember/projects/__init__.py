"""Projects built on ember, each a module with its own `ember` command (add_parser)."""
