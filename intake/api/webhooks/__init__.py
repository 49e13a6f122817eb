"""Webhooks providers call us on (Twilio): verified, read with a limit, parsed by the channel's adapter."""
