"""Websocket transport: credentials, host discovery, multiplexed namespace connections."""
