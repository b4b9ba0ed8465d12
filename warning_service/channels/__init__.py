"""Channel adapters: one small interface (base.py), one module per gateway, registered in registry.py."""
