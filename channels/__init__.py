"""Channel adapters: one small module per channel behind the interfaces in channels/base.py."""
