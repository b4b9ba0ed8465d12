"""Channels: one package each (sms/, broadcast/, beidou/, cell_broadcast/) declaring its ChannelSpec (spec.py), listed
in catalog.py; the adapter interface (base.py), the gateways for any channel (null.py, log.py) and
the choice of a channel's gateway (gateways.py)."""
