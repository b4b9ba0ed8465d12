"""Publishing alerts and carrying them to the channels."""
