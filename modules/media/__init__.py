"""Pictures and recordings: reading, conditioning, recognising and speaking."""
