"""Recipients as the service takes them in: rows read from an operator's CSV, checked line by line.
Pure rules; storing them is a use case (services)."""
