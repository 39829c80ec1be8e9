"""Stores that ship with hod-core (the others are adapters under adapters/)."""
