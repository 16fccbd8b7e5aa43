"""People: who a person is across leads and applications (ID numbers, the one blind index)."""
