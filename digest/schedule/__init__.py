"""The daily loop: `digest schedule`, local-time delivery, and the operator's view."""
