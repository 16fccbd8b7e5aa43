"""Status messages to residents: their subscribe consents and an outbox of messages."""
