"""Delivery: channels (Apprise), message rendering and the durable outbox."""
